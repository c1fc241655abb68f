import t from 'tap';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { testConfig } from '../helper.js';

const problemsOf = (env: Record<string, string>) => {
  try {
    testConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.join('\n');
    throw error;
  }
  return '';
};

t.test('events settings: defaults', async (t) => {
  const { events } = testConfig();
  t.same(
    events.retryScheduleMs,
    [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
  );
  t.equal(events.timeoutMs, 15_000);
  t.equal(events.disableAfterMs, 3 * 86_400_000);
  t.equal(events.secretOverlapMs, 86_400_000);
  t.equal(events.endpoint, undefined);
  t.equal(events.allowPrivateUrls, true, 'sandbox mode allows private URLs');
  const live = loadConfig({
    PATREON_CLIENT_ID: 'id',
    PATREON_CLIENT_SECRET: 'secret',
    API_KEYS: 'k'.repeat(40),
    TOKEN_KEYS: `a:${Buffer.alloc(32).toString('base64')}`,
    RETURN_TO_ALLOWLIST: 'https://app.example.com/',
  });
  t.equal(live.events.allowPrivateUrls, false, 'live mode does not');
});

t.test('events settings: parsed and checked', async (t) => {
  const secret = `whsec_${Buffer.alloc(24, 3).toString('base64')}`;
  const { events } = testConfig({
    EVENTS_ENDPOINT_URL: 'https://host.example.com/events',
    EVENTS_ENDPOINT_SECRET: secret,
    EVENTS_RETRY_SCHEDULE: '100ms, 2s,1m',
    EVENTS_DISABLE_AFTER: '2h',
    EVENTS_ALLOW_PRIVATE_URLS: 'false',
  });
  t.same(events.endpoint, {
    url: 'https://host.example.com/events',
    secrets: [secret],
    eventTypes: [],
  });
  t.same(events.retryScheduleMs, [100, 2000, 60_000]);
  t.equal(events.disableAfterMs, 7_200_000);
  t.equal(events.allowPrivateUrls, false);

  const problems = problemsOf({
    EVENTS_ENDPOINT_URL: 'https://host.example.com/events',
    EVENTS_ENDPOINT_SECRET: 'whsec_c2hvcnQ=,not-a-secret-at-all',
    EVENTS_ENDPOINT_TYPES: 'member.created,member.exploded',
    EVENTS_RETRY_SCHEDULE: '5s,soon',
    EVENTS_DISABLE_AFTER: 'forever',
  });
  t.match(problems, /EVENTS_ENDPOINT_SECRET\[0\]/);
  t.match(problems, /EVENTS_ENDPOINT_SECRET\[1\]/);
  t.match(problems, /EVENTS_ENDPOINT_TYPES\[1\]: unknown event type/);
  t.match(problems, /EVENTS_RETRY_SCHEDULE/);
  t.match(problems, /EVENTS_DISABLE_AFTER/);
  t.notMatch(problems, /not-a-secret-at-all/, 'a rejected secret is not echoed');
  t.match(
    problemsOf({ EVENTS_ENDPOINT_URL: 'https://host.example.com/events' }),
    /EVENTS_ENDPOINT_SECRET: required/,
  );
});
