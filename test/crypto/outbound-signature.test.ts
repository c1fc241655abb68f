import { Webhook } from 'standardwebhooks';
import t from 'tap';
import { generateSecret, sign, signedHeaders } from '../../src/crypto/outbound-signature.js';

t.test('matches the Standard Webhooks specification example', async (t) => {
  t.equal(
    sign(
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'msg_p5jXN8AQM9LWM0D4loKWxJek',
      1614265330,
      '{"test": 2432232314}',
    ),
    'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
  );
});

t.test('generated secrets and signed headers verify with the reference library', async (t) => {
  const secrets = [generateSecret(), generateSecret()];
  t.not(secrets[0], secrets[1]);
  for (const secret of secrets) {
    t.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/, '32 random bytes');
  }
  const body = JSON.stringify({
    type: 'member.created',
    timestamp: new Date().toISOString(),
    data: {},
  });
  const headers = signedHeaders({
    id: 'evt_1',
    timestampSeconds: Math.floor(Date.now() / 1000),
    body,
    secrets,
  });
  for (const secret of secrets) t.ok(new Webhook(secret).verify(body, headers));
  t.throws(() => new Webhook(generateSecret()).verify(body, headers));
});
