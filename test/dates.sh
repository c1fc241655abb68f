#!/usr/bin/env bash
# The date-sensitive suites at fixed dates, under Debian's faketime (libfaketime moves the system
# clock the whole process sees): they must pass whatever day the suite runs. Embedded database only:
# a real PostgreSQL server keeps its own clock.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v faketime >/dev/null || { echo "faketime is missing: apt-get install faketime" >&2; exit 1; }
suites=(test/entitlements test/members test/analytics test/campaigns test/webhooks/apply.test.ts
  test/sync/full-sync.test.ts test/events/end-to-end.test.ts)
days=('2027-01-01 00:10:00' '2027-01-08 12:00:00' '2027-02-28 23:50:00' '2026-04-29 12:00:00'
  '2026-04-30 23:59:00' '2027-03-31 12:00:00' '2028-02-29 12:00:00' '2026-12-31 23:55:00')
failed=0
for day in "${days[@]}"; do
  if faketime "$day" node_modules/.bin/tap --disable-coverage "${suites[@]}" >"/tmp/test-dates.log" 2>&1; then
    echo "ok   $day  $(grep '^# {' /tmp/test-dates.log | tail -1)"
  else
    echo "FAIL $day  $(grep '^# {' /tmp/test-dates.log | tail -1)"; grep 'not ok' /tmp/test-dates.log | head -20
    failed=1
  fi
done
exit $failed
