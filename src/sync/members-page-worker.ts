import { parentPort } from 'node:worker_threads';
import { decodeMembersPage, type MembersPageRequest } from './members-page.js';
import { serializeError } from './members-page-decoder.js';

/** The members page worker: decodes and prepares each page it is sent, one at a time. */
parentPort?.on('message', ({ id, request }: { id: number; request: MembersPageRequest }) => {
  try {
    parentPort?.postMessage({ id, result: decodeMembersPage(request) });
  } catch (error) {
    parentPort?.postMessage({ id, error: serializeError(error) });
  }
});
