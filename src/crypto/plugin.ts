import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config/config.js';
import { createTokenCipher, type TokenCipher } from './token-cipher.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Seals what is kept secret at rest: OAuth tokens, Patreon webhook secrets, endpoint secrets. */
    cipher: TokenCipher;
  }
}

/** The token cipher, built once from `TOKEN_KEYS` for every domain that seals a secret. */
export const cipherPlugin = fp(
  async (app: FastifyInstance, { config }: { config: Config }) => {
    app.decorate('cipher', createTokenCipher(config.tokenKeys));
  },
  { name: 'cipher' },
);
