import { randomBytes } from 'node:crypto';
import t from 'tap';
import { createTokenCipher } from '../../src/crypto/token-cipher.js';

const key = (id: string) => ({ id, key: randomBytes(32) });

t.test('seals and opens; every envelope is different', async (t) => {
  const cipher = createTokenCipher([key('k1')]);
  const a = cipher.seal('access-token-value', 'row-1');
  const b = cipher.seal('access-token-value', 'row-1');
  t.not(a, b, 'a fresh nonce each time');
  t.notMatch(a, 'access-token-value');
  t.match(a, /^v1\.k1\.[\w-]{16}\.[\w-]+\.[\w-]{22}$/);
  t.equal(cipher.open(a, 'row-1'), 'access-token-value');
  t.equal(cipher.keyIdOf(a), 'k1');
});

t.test('bound to its row, its key and its bytes', async (t) => {
  const cipher = createTokenCipher([key('k1')]);
  const sealed = cipher.seal('secret', 'row-1');
  t.throws(
    () => cipher.open(sealed, 'row-2'),
    { code: 'TOKEN_CIPHER_FAILED' },
    'moved to another row',
  );
  const parts = sealed.split('.');
  const flipped = Buffer.from(parts[3] as string, 'base64url');
  flipped[0] = (flipped[0] as number) ^ 1;
  parts[3] = flipped.toString('base64url');
  t.throws(
    () => cipher.open(parts.join('.'), 'row-1'),
    { code: 'TOKEN_CIPHER_FAILED' },
    'tampered',
  );
  t.throws(
    () => createTokenCipher([key('k1')]).open(sealed, 'row-1'),
    'another key with the same id',
  );
  t.throws(() => cipher.open('plaintext-token', 'row-1'), /not a sealed value/);
});

t.test('rotation: the first key seals, all keys open', async (t) => {
  const a = key('a');
  const b = key('b');
  const old = createTokenCipher([a]);
  const sealedUnderA = old.seal('token', 'row');
  const rotating = createTokenCipher([b, a]);
  t.equal(rotating.open(sealedUnderA, 'row'), 'token', 'old envelopes still open');
  const resealed = rotating.seal(rotating.open(sealedUnderA, 'row'), 'row');
  t.equal(rotating.keyIdOf(resealed), 'b');
  const withoutA = createTokenCipher([b]);
  t.equal(withoutA.open(resealed, 'row'), 'token');
  t.throws(() => withoutA.open(sealedUnderA, 'row'), /key "a", which is not configured/);
});
