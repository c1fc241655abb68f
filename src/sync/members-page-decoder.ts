import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { PatreonError, type PatreonErrorCode } from '../patreon/errors.js';
import {
  type DecodedMembersPage,
  decodeMembersPage,
  type MembersPageRequest,
} from './members-page.js';

type SerializedError =
  | { patreon: true; code: PatreonErrorCode; message: string; details: PatreonError['details'] }
  | { patreon: false; message: string };

/** An error as it crosses the thread boundary: a PatreonError keeps its code and details. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof PatreonError) {
    const { cause: _cause, ...details } = error.details;
    return { patreon: true, code: error.code, message: error.message, details };
  }
  return { patreon: false, message: error instanceof Error ? error.message : String(error) };
}

const revive = (error: SerializedError) =>
  error.patreon
    ? new PatreonError(error.code, error.message, error.details)
    : new Error(`members page worker: ${error.message}`);

type Pending = {
  resolve: (page: DecodedMembersPage) => void;
  reject: (error: unknown) => void;
};

type Reply = { id: number; result?: DecodedMembersPage; error?: SerializedError };

/** One worker and the pages it was sent; when it dies, those pages fail and nothing else. */
function startWorker(heapMb: number | undefined) {
  // The same directory and extension as this module: dist/…/x.js compiled, src/…/x.ts in tests.
  const url = new URL(
    `./members-page-worker${path.extname(new URL(import.meta.url).pathname)}`,
    import.meta.url,
  );
  // A small young generation: the pages' garbage is collected often, not kept as resident memory
  // (bench:sync: peak RSS 240 → 200 MiB at 10k members).
  const worker = new Worker(url, {
    resourceLimits: {
      maxYoungGenerationSizeMb: 8,
      ...(heapMb === undefined ? {} : { maxOldGenerationSizeMb: heapMb }),
    },
  });
  const pending = new Map<number, Pending>();
  /** The pages out, settled either way: what `stop` waits for. */
  const out = new Set<Promise<unknown>>();
  let nextId = 0;
  let failure: unknown;
  const fail = (error: unknown) => {
    failure ??= error;
    for (const entry of pending.values()) entry.reject(failure);
    pending.clear();
  };
  worker.on('message', ({ id, result, error }: Reply) => {
    const entry = pending.get(id);
    pending.delete(id);
    // Referenced only while a page is out, so an idle worker never keeps the process up.
    if (pending.size === 0) worker.unref();
    if (error) entry?.reject(revive(error));
    else entry?.resolve(result as DecodedMembersPage);
  });
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`members page worker exited with code ${code}`)));
  return {
    get alive() {
      return failure === undefined;
    },
    decode(request: MembersPageRequest) {
      const decoded = new Promise<DecodedMembersPage>((resolve, reject) => {
        if (failure !== undefined) return reject(failure);
        const id = nextId++;
        pending.set(id, { resolve, reject });
        worker.ref();
        worker.postMessage({ id, request });
      });
      const settled: Promise<unknown> = decoded.then(
        () => out.delete(settled),
        () => out.delete(settled),
      );
      out.add(settled);
      return decoded;
    },
    /** Once the pages it is decoding are answered. */
    async stop() {
      await Promise.all(out);
      await worker.terminate();
    },
  };
}

/**
 * Decodes members pages (JSON, JSON:API, rows, their statements' JSON) on a worker thread. A page
 * of 500 members with their pledge history is tens of milliseconds of CPU: on the event loop it
 * held up the statements writing the page before it, and every API request meanwhile. One worker,
 * started on first use (or by `warm`) and replaced if it dies: the pages it had fail, and their
 * sync slice is retried. `thread: false` decodes inline, with the same results.
 */
export function createMembersPageDecoder(options: {
  thread: boolean;
  /** The worker's old generation cap in MiB (by default the process's, e.g. the image's 512). */
  heapMb?: number;
}) {
  let current: ReturnType<typeof startWorker> | undefined;
  const worker = () => {
    if (!current?.alive) current = startWorker(options.heapMb);
    return current;
  };

  return {
    /** Starts the worker ahead of the first page (it loads its modules while the page is fetched). */
    warm() {
      if (options.thread) worker();
    },
    /**
     * Decodes on the worker; on this thread with `here` (or `thread: false`), e.g. a first page
     * that nothing is being written beside, while the worker is still starting.
     */
    decode(request: MembersPageRequest, here = false): Promise<DecodedMembersPage> {
      if (here || !options.thread) return Promise.resolve().then(() => decodeMembersPage(request));
      return worker().decode(request);
    },
    /** Stops the worker once the pages it is decoding are answered. */
    async close() {
      const stopping = current;
      current = undefined;
      await stopping?.stop();
    },
  };
}

export type MembersPageDecoder = ReturnType<typeof createMembersPageDecoder>;
