type Waiting<In, Out> = {
  item: In;
  resolve: (result: Out) => void;
  reject: (error: unknown) => void;
};

/**
 * Turns many concurrent single-item calls into few multi-item statements. A call made while
 * `maxInFlight` batches are running waits for the next free slot, which takes everything waiting
 * (up to `maxBatch`) in one go; a call made when a slot is free runs at once, so a quiet service
 * adds no latency and a busy one sends ever larger batches instead of queueing statements. `run`
 * answers each item in its batch, in order; if it throws, every item of that batch fails with
 * the error.
 */
export function coalesce<In, Out>(
  run: (items: In[]) => Promise<Out[]>,
  options: { maxBatch: number; maxInFlight: number },
) {
  let waiting: Waiting<In, Out>[] = [];
  let inFlight = 0;

  async function runBatch(batch: Waiting<In, Out>[]) {
    let results: Out[];
    try {
      results = await run(batch.map((entry) => entry.item));
    } catch (error) {
      inFlight--;
      pump();
      for (const entry of batch) entry.reject(error);
      return;
    }
    // The next batch is sent before this one's callers resume: the database works on it while
    // they answer.
    inFlight--;
    pump();
    for (const [index, entry] of batch.entries()) entry.resolve(results[index] as Out);
  }

  function pump() {
    while (waiting.length > 0 && inFlight < options.maxInFlight) {
      const batch =
        waiting.length <= options.maxBatch ? waiting : waiting.slice(0, options.maxBatch);
      waiting = waiting.length <= options.maxBatch ? [] : waiting.slice(batch.length);
      inFlight++;
      void runBatch(batch);
    }
  }

  return {
    /** True while calls are waiting or running. */
    busy: () => waiting.length > 0 || inFlight > 0,
    call(item: In): Promise<Out> {
      return new Promise<Out>((resolve, reject) => {
        waiting.push({ item, resolve, reject });
        pump();
      });
    },
  };
}
