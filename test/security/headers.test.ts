import { createServer } from 'node:http';
import t, { type Test } from 'tap';
import { launchBrowser, needsBrowser } from '../fixtures/browser.js';
import { listenOnFreePort } from '../fixtures/listen.js';
import { deliver, insertWebhook } from '../fixtures/webhooks.js';
import { auth, build } from '../helper.js';

const PROBLEM = 'application/problem+json; charset=utf-8';

/** The headers every HTML page (and browser redirect) of ours must carry. */
function checkBrowserHeaders(t: Test, headers: Record<string, unknown>, what: string) {
  const csp = String(headers['content-security-policy'] ?? '');
  t.match(csp, /default-src '(none|self)'/, `${what}: CSP restricts sources`);
  t.match(csp, /frame-ancestors 'none'/, `${what}: CSP forbids framing`);
  t.notMatch(csp, /script-src[^;]*'unsafe-(inline|eval)'/, `${what}: no inline scripts`);
  t.equal(headers['x-frame-options'], 'DENY', `${what}: X-Frame-Options`);
  t.equal(headers['x-content-type-options'], 'nosniff', `${what}: nosniff`);
  t.equal(headers['referrer-policy'], 'no-referrer', `${what}: Referrer-Policy`);
}

t.test('HTML pages and browser redirects carry the browser security headers', async (t) => {
  const { app } = await build(t);
  const pages = {
    'start, no ticket': '/oauth/patreon/start',
    'start, unknown ticket': '/oauth/patreon/start?ticket=unknown',
    'callback, unknown state': '/oauth/patreon/callback?state=unknown&code=x',
    docs: '/docs',
    'docs with a slash': '/docs/',
  };
  for (const [what, url] of Object.entries(pages)) {
    const response = await app.inject({ url });
    t.match(response.headers['content-type'], /^text\/html/, `${what} is a page`);
    checkBrowserHeaders(t, response.headers, what);
  }

  const authorized = await app.inject({
    method: 'POST',
    url: '/v1/connections/authorize',
    headers: auth(),
    payload: { externalUserId: 'u', role: 'patron', returnTo: 'http://localhost:3000/back' },
  });
  const { authorizeUrl } = authorized.json() as { authorizeUrl: string };
  const start = await app.inject({
    url: new URL(authorizeUrl).pathname + new URL(authorizeUrl).search,
  });
  t.equal(start.statusCode, 302);
  checkBrowserHeaders(t, start.headers, 'the redirect to Patreon');
  t.match(String(start.headers['set-cookie']), /HttpOnly/i, 'the state cookie is HttpOnly');
  t.match(String(start.headers['set-cookie']), /SameSite=Lax/i);
});

t.test('JSON answers are never sniffed, and no CORS header is sent', async (t) => {
  const { app } = await build(t);
  const origin = 'https://evil.example';
  for (const [method, url, headers] of [
    ['GET', '/healthz', {}],
    ['GET', '/openapi.json', {}],
    ['GET', '/v1/connections', auth()],
    ['GET', '/v1/connections', {}],
    ['GET', '/no-such-route', {}],
  ] as const) {
    const response = await app.inject({ method, url, headers: { ...headers, origin } });
    t.equal(response.headers['x-content-type-options'], 'nosniff', `${url}: nosniff`);
    t.notOk(response.headers['access-control-allow-origin'], `${url}: no CORS`);
  }
  for (const url of [
    '/v1/connections',
    '/v1/connections/authorize',
    '/oauth/patreon/start',
    '/healthz',
  ]) {
    const preflight = await app.inject({
      method: 'OPTIONS',
      url,
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    t.ok(preflight.statusCode >= 400, `OPTIONS ${url}: refused (${preflight.statusCode})`);
    const cors = Object.keys(preflight.headers).filter((name) =>
      name.startsWith('access-control-'),
    );
    t.same(cors, [], `OPTIONS ${url}: no Access-Control-* header`);
  }
});

t.test('/v1 bodies are capped at 64 KiB; webhooks keep BODY_LIMIT_BYTES', async (t) => {
  const { app } = await build(t);
  const padded = (bytes: number) =>
    JSON.stringify({
      externalUserId: 'u',
      role: 'patron',
      returnTo: 'http://localhost/',
      pad: 'x'.repeat(bytes),
    });
  const tooLarge = await app.inject({
    method: 'POST',
    url: '/v1/connections/authorize',
    headers: { ...auth(), 'content-type': 'application/json' },
    payload: padded(70 * 1024),
  });
  t.equal(tooLarge.statusCode, 413);
  t.equal(tooLarge.headers['content-type'], PROBLEM);
  t.equal(tooLarge.json().code, 'PAYLOAD_TOO_LARGE');
  const fits = await app.inject({
    method: 'POST',
    url: '/v1/connections/authorize',
    headers: { ...auth(), 'content-type': 'application/json' },
    payload: padded(60 * 1024),
  });
  t.equal(fits.statusCode, 201, 'a body under the cap is read (the unknown field is dropped)');

  for (const [method, url] of [
    ['PATCH', '/v1/event-endpoints/0b7e6c1a-4d2f-4c8e-9a51-3f6d2e8b7c40'],
    ['POST', '/v1/entitlements/check'],
    ['DELETE', '/v1/connections/0b7e6c1a-4d2f-4c8e-9a51-3f6d2e8b7c40'],
  ] as const) {
    const response = await app.inject({
      method,
      url,
      headers: { ...auth(), 'content-type': 'application/json' },
      payload: JSON.stringify({ pad: 'x'.repeat(70 * 1024) }),
    });
    t.equal(response.statusCode, 413, `${method} ${url}`);
  }

  const secret = 'large-body-secret-0123456789abcdef012345678';
  const webhookId = await insertWebhook(app, { secret });
  const big = JSON.stringify({ data: { type: 'member', id: 'm-1' }, pad: 'x'.repeat(200 * 1024) });
  const delivered = await deliver(app, webhookId, { secret, body: big });
  t.equal(delivered.statusCode, 200, 'a 200 KB webhook delivery is taken');
  const huge = await deliver(app, webhookId, { secret, body: 'x'.repeat(1024 * 1024 + 1) });
  t.equal(huge.statusCode, 413, 'beyond BODY_LIMIT_BYTES a delivery is 413');
  t.equal(huge.headers['content-type'], PROBLEM);
});

t.test('/docs loads under its CSP and cannot be framed', needsBrowser, async (t) => {
  const { app } = await build(t);
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  // Another origin that tries to frame the reference.
  const framer = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><iframe id="docs" src="${address}/docs"></iframe>`);
  });
  const framerUrl = `http://localhost:${(await listenOnFreePort(t, framer)).port}/`;

  const browser = await launchBrowser(t);
  const tab = await browser.newPage();
  const violations: string[] = [];
  tab.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  await tab.goto(`${address}/docs`);
  await tab.getByText('/v1/connections/{id}').first().waitFor({ timeout: 20_000 });
  t.ok(await tab.getByText('List connections').first().isVisible(), 'swagger-ui renders');
  await tab.getByText('List connections').first().click();
  await tab.getByText('Try it out').first().waitFor({ timeout: 5_000 });
  t.same(violations, [], 'nothing the page needs is refused by its CSP');

  const framing = await browser.newPage();
  const refused: string[] = [];
  framing.on('console', (message) => refused.push(message.text()));
  await framing.goto(framerUrl);
  const frame = framing.frames().find((f) => f !== framing.mainFrame());
  await framing.waitForTimeout(500);
  const rendered = frame
    ? await frame
        .locator('#swagger-ui')
        .count()
        .catch(() => 0)
    : 0;
  t.equal(rendered, 0, 'the reference does not render inside another site’s frame');
  t.ok(
    refused.some((text) =>
      /frame-ancestors|X-Frame-Options|Refused to (display|frame)/i.test(text),
    ),
    'the browser says why',
  );
});
