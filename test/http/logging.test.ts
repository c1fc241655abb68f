import t from 'tap';
import { redactUrl } from '../../src/http/logger.js';
import { auth, build, capturingLogger, TEST_API_KEY } from '../helper.js';

t.test('request logs carry ids and never secrets', async (t) => {
  const capture = capturingLogger('info');
  const { app } = await build(t, {
    logger: capture.logger,
    extend: (app) =>
      app.get('/callback-like', async (request) => {
        request.log.info(
          { accessToken: 'at-SECRET-1', nested: { refreshToken: 'rt-SECRET-2' }, code: 'E_OK' },
          'tokens received',
        );
        const failure = Object.assign(new Error('grant refused'), {
          response: { body: { client_secret: 'cs-SECRET-6' } },
        });
        request.log.warn(
          { err: failure, list: [{ deep: { deeper: { secret: 'wh-SECRET-7' } } }] },
          'refresh failed',
        );
        return { ok: true };
      }),
  });

  const response = await app.inject({
    method: 'GET',
    url: '/callback-like?code=oauth-SECRET-3&state=state-SECRET-4&keep=visible',
    headers: { ...auth(), cookie: 'session=cookie-SECRET-5' },
  });
  t.equal(response.statusCode, 200);

  const text = capture.text();
  for (const secret of [
    'at-SECRET-1',
    'rt-SECRET-2',
    'oauth-SECRET-3',
    'state-SECRET-4',
    'cookie-SECRET-5',
    'cs-SECRET-6',
    'wh-SECRET-7',
    TEST_API_KEY,
  ]) {
    t.notMatch(text, secret, `${secret.split('-')[0]} is not logged`);
  }
  const lines = capture.lines.map((line) => JSON.parse(line));
  const completed = lines.find((line) => line.msg === 'request completed');
  t.match(completed?.req?.url, /keep=visible/, 'harmless query parameters stay readable');
  t.equal(completed?.reqId, response.headers['x-request-id']);
  t.match(completed, { res: { statusCode: 200 }, responseTime: Number }, 'with its outcome');
  t.equal(
    lines.filter((line) => line.reqId === completed?.reqId && /request/.test(line.msg)).length,
    1,
    'one line per request',
  );
  const tokens = lines.find((line) => line.msg === 'tokens received');
  t.equal(tokens?.accessToken, '[REDACTED]');
  t.equal(tokens?.nested?.refreshToken, '[REDACTED]');
  t.equal(tokens?.code, 'E_OK', 'error codes are not mistaken for OAuth codes');
  const failed = lines.find((line) => line.msg === 'refresh failed');
  t.match(
    failed?.err,
    {
      message: 'grant refused',
      stack: /grant refused/,
      response: { body: { client_secret: '[REDACTED]' } },
    },
    'an error carrying a secret keeps its message and stack',
  );
  t.equal(failed?.list?.[0]?.deep?.deeper?.secret, '[REDACTED]', 'inside arrays, five levels down');
});

t.test('redactUrl masks secret query parameters only', async (t) => {
  t.equal(redactUrl('/a?code=1&x=2&STATE=3'), '/a?code=%5BREDACTED%5D&x=2&STATE=%5BREDACTED%5D');
  t.equal(redactUrl('/plain'), '/plain');
  t.equal(redactUrl('/v1/x?externalUserId=u&campaignId=1'), '/v1/x?externalUserId=u&campaignId=1');
  t.equal(redactUrl('/a?x=1&ticket=t'), '/a?x=1&ticket=%5BREDACTED%5D');
  t.equal(redactUrl('/a?%63ode=s'), '/a?code=%5BREDACTED%5D', 'a percent-encoded name too');
  t.equal(redactUrl('/a?decode=1'), '/a?decode=1', 'a name that only ends like one is kept');
});
