import type { FastifyBaseLogger } from 'fastify';

/**
 * The loop around a step that works through what is due: every `everyMs`, `step` runs until it
 * reports nothing more to do (or the loop is closed). A failing step is logged and tried again at
 * the next tick. What is due lives in the database, so every instance can run the same loop.
 */
export function startPollLoop(deps: {
  everyMs: number;
  /** One unit of work; true when there may be more right away. */
  step: () => Promise<boolean>;
  log: FastifyBaseLogger;
  /** Names the work in the log line of a failure. */
  what: string;
}) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let closed = false;

  async function drain() {
    try {
      while (!closed && (await deps.step())) {}
    } catch (error) {
      if (!closed) deps.log.warn({ err: error }, `${deps.what} failed; will retry`);
    }
  }

  function schedule() {
    if (closed) return;
    timer = setTimeout(() => {
      running = drain().finally(() => {
        running = undefined;
        schedule();
      });
    }, deps.everyMs);
    timer.unref();
  }
  schedule();

  return {
    /** Waits for the step under way, then stops. */
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
    },
  };
}
