import type { FastifyBaseLogger } from 'fastify';

/**
 * One log line for a storm of the same failure. During a database outage every request fails
 * the same way, and a line (with a stack) each would be tens of thousands for a few seconds: this
 * logs the first failure with its error, then at most one line per `everyMs` counting those since
 * the last line, and one line when a success ends the storm. Measures elapsed time, not dates.
 */
export function createFailureLog(
  log: FastifyBaseLogger,
  message: string,
  options: { everyMs?: number; now?: () => number } = {},
) {
  const everyMs = options.everyMs ?? 5_000;
  const now = options.now ?? (() => performance.now());
  let sinceLine = 0;
  let inStorm = 0;
  let lineAt = Number.NEGATIVE_INFINITY;

  return {
    failed(error: unknown, fields: Record<string, unknown> = {}) {
      sinceLine++;
      inStorm++;
      const at = now();
      if (at - lineAt < everyMs) return;
      log.error({ ...fields, err: error, failures: sinceLine }, message);
      lineAt = at;
      sinceLine = 0;
    },

    succeeded() {
      if (inStorm === 0) return;
      log.warn({ failures: inStorm }, `${message}: recovered`);
      inStorm = 0;
      sinceLine = 0;
      lineAt = Number.NEGATIVE_INFINITY;
    },
  };
}
