import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { TokenKey } from '../config/config.js';

/**
 * AES-256-GCM for secrets at rest (OAuth tokens, webhook secrets). Each envelope names the key
 * that sealed it, so keys rotate: the first key seals, every key opens. The associated data binds
 * an envelope to its row (e.g. the connection id): moved to another row, it no longer opens.
 *
 * Envelope: `v1.<keyId>.<nonce>.<ciphertext>.<tag>`, base64url parts; a fresh 96-bit nonce each time.
 */
const VERSION = 'v1';

export class TokenCipherError extends Error {
  readonly code = 'TOKEN_CIPHER_FAILED';
}

export function createTokenCipher(keys: readonly TokenKey[]) {
  const [current] = keys;
  if (!current) throw new TokenCipherError('at least one token key is required');
  const byId = new Map(keys.map((key) => [key.id, key.key]));

  return {
    currentKeyId: current.id,

    seal(plaintext: string, associatedData: string): string {
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current.key, nonce);
      cipher.setAAD(Buffer.from(associatedData, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [
        VERSION,
        current.id,
        nonce.toString('base64url'),
        ciphertext.toString('base64url'),
        cipher.getAuthTag().toString('base64url'),
      ].join('.');
    },

    open(envelope: string, associatedData: string): string {
      const [version, keyId, nonce, ciphertext, tag, extra] = envelope.split('.');
      if (
        version !== VERSION ||
        !keyId ||
        !nonce ||
        ciphertext === undefined ||
        !tag ||
        extra !== undefined
      ) {
        throw new TokenCipherError('not a sealed value');
      }
      const key = byId.get(keyId);
      if (!key) throw new TokenCipherError(`sealed with key "${keyId}", which is not configured`);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'));
        decipher.setAAD(Buffer.from(associatedData, 'utf8'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([
          decipher.update(Buffer.from(ciphertext, 'base64url')),
          decipher.final(),
        ]).toString('utf8');
      } catch {
        throw new TokenCipherError('the sealed value does not open with its key and row');
      }
    },

    /** The key id an envelope was sealed with, without opening it. */
    keyIdOf(envelope: string): string | undefined {
      return envelope.startsWith(`${VERSION}.`) ? envelope.split('.')[1] : undefined;
    },
  };
}

export type TokenCipher = ReturnType<typeof createTokenCipher>;
