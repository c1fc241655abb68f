import { AppError } from './errors.js';

/**
 * What a row keeps of an error, and what the API shows of it: a stable code to decide on and a
 * short sentence to read. A database error's text (its SQL, its parameters) and stacks go to the
 * log only, under the event or job id, never into a row or an answer.
 */
export type StoredError = { code: string; message: string };

const MESSAGE_MAX = 300;

/**
 * Our own errors (AppError: written to be shown) keep their code and message; anything else
 * (a database or runtime error) is stored as `fallback`.
 */
export function storedError(error: unknown, fallback: StoredError): StoredError {
  if (error instanceof AppError) {
    // A message may quote what a sender sent: bounded, and without the NUL text cannot hold.
    return {
      code: error.code,
      message: error.message.replaceAll('\u0000', '').slice(0, MESSAGE_MAX),
    };
  }
  return fallback;
}
