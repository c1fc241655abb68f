import { eq } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import t from 'tap';
import { parseTokenKeys } from '../../src/config/config.js';
import { createTokenCipher } from '../../src/crypto/token-cipher.js';
import { outboundEndpoints } from '../../src/db/schema/index.js';
import { resealEndpointSecrets } from '../../src/events/key-rotation.js';
import { auth } from '../helper.js';
import { buildEvents, createEndpoint } from './fixture.js';

t.test('endpoint secrets are re-sealed under a new token key', async (t) => {
  const keyA = `a:${Buffer.alloc(32, 1).toString('base64')}`;
  const keyB = `b:${Buffer.alloc(32, 2).toString('base64')}`;
  const { app } = await buildEvents(t, { env: { TOKEN_KEYS: keyA } });
  const endpoint = await createEndpoint(app, { url: 'http://127.0.0.1:9/x' });
  const rotated = await app.inject({
    method: 'POST',
    url: `/v1/event-endpoints/${endpoint.id}/rotate-secret`,
    headers: auth(),
  });
  const newSecret = rotated.json().secret as string;

  const both = createTokenCipher(parseTokenKeys([keyB, keyA], []));
  t.equal(await resealEndpointSecrets(app.database.db, both), 1);
  t.equal(await resealEndpointSecrets(app.database.db, both), 0, 'a rerun has nothing to do');
  const [row] = await app.database.db
    .select()
    .from(outboundEndpoints)
    .where(eq(outboundEndpoints.id, endpoint.id));
  const onlyB = createTokenCipher(parseTokenKeys([keyB], []));
  const opened = (row?.secretCiphertexts ?? []).map((envelope) =>
    onlyB.open(envelope, endpoint.id),
  );
  t.same(opened, [newSecret, endpoint.secret], 'both secrets open with the new key alone');
  t.ok(new Webhook(opened[0] as string), 'still a Standard Webhooks secret');
});
