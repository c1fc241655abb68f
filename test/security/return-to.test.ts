import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { auth, build } from '../helper.js';

/** The live-mode credentials a host would configure (the sandbox's, not used over the wire). */
const LIVE = {
  PATREON_CLIENT_ID: 'client-id',
  PATREON_CLIENT_SECRET: 'client-secret',
  RETURN_TO_ALLOWLIST: 'https://app.example.com/settings/',
};

const authorize = (app: FastifyInstance, returnTo: unknown) =>
  app.inject({
    method: 'POST',
    url: '/v1/connections/authorize',
    headers: auth(),
    payload: { externalUserId: 'user-1', role: 'patron', returnTo },
  });

/** Ways to point the redirect after consent somewhere else than the allowed prefix. */
const attempts = [
  '//evil.com',
  '//evil.com/settings/',
  '///evil.com/settings/',
  '/\\evil.com',
  '\\\\evil.com\\settings\\',
  '/settings/',
  'settings/',
  'https://evil.com',
  'https://evil.com/settings/',
  'https:evil.com/settings/',
  'https:/evil.com/settings/',
  'https:\\\\evil.com/settings/',
  'http://app.example.com/settings/',
  'https://app.example.com:8443/settings/',
  'https://app.example.com.evil.com/settings/',
  'https://app.example.comevil.com/settings/',
  'https://app.example.com@evil.com/settings/',
  'https://app.example.com:443@evil.com/settings/',
  'https://user:pass@app.example.com/settings/',
  'https://evil.com#@app.example.com/settings/',
  'https://evil.com?@app.example.com/settings/',
  'https://evil.com\\@app.example.com/settings/',
  'https://evil.com/https://app.example.com/settings/',
  'https://evil.com/?next=https://app.example.com/settings/',
  'https://app.example.com\t.evil.com/settings/',
  'https://app.example.com\u3002evil.com/settings/',
  'https://app.example.com/settings/../admin',
  'https://app.example.com/settings/%2e%2e/admin',
  'https://app.example.com/settings/%2E%2E%2Fadmin',
  'https://app.example.com/settings/%5c..%5cadmin',
  'https://app.example.com/settings/..%2f..%2fadmin',
  'https://app.example.com/admin/settings/',
  'https://app.example.com/Settings/',
  'https%3A%2F%2Fevil.com%2Fsettings%2F',
  '%2F%2Fevil.com',
  'https:%2F%2Fevil.com/settings/',
  'https://%65vil.com/settings/',
  'https://evil%2ecom/settings/',
  'javascript:alert(1)',
  'JaVaScRiPt:alert(document.domain)',
  ' javascript:alert(1)',
  'java\tscript:alert(1)',
  'javascript://app.example.com/settings/%0aalert(1)',
  'data:text/html,<script>alert(1)</script>',
  'vbscript:msgbox(1)',
  'file:///etc/passwd',
  'ftp://app.example.com/settings/',
  'ws://app.example.com/settings/',
  '',
  ' ',
  'https://',
  'https://[::1]/settings/',
  'https://127.0.0.1/settings/',
  'https://0x7f000001/settings/',
];

t.test('authorize refuses every returnTo outside RETURN_TO_ALLOWLIST', async (t) => {
  const { app } = await build(t, { env: LIVE });
  for (const returnTo of attempts) {
    const response = await authorize(app, returnTo);
    t.ok(
      response.statusCode === 422 || response.statusCode === 400,
      `${JSON.stringify(returnTo)} → ${response.statusCode}`,
    );
    t.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8');
    t.notOk(response.headers.location, 'no redirect');
    t.notOk('authorizeUrl' in response.json(), 'no link issued');
  }
  for (const returnTo of [42, null, ['https://app.example.com/settings/'], { href: 'x' }]) {
    const response = await authorize(app, returnTo);
    t.equal(response.statusCode, 400, `${JSON.stringify(returnTo)} is not a string`);
  }
});

t.test('allowed returnTo values still work, and the browser lands on them', async (t) => {
  const { app } = await build(t, { env: LIVE });
  for (const returnTo of [
    'https://app.example.com/settings/',
    'https://app.example.com/settings/patreon?tab=billing#top',
    'https://APP.example.com/settings/x',
  ]) {
    const response = await authorize(app, returnTo);
    t.equal(response.statusCode, 201, `${returnTo} is allowed`);
    // A ticket that cannot be redeemed (used) sends the browser back to returnTo, on its origin.
    const { authorizeUrl } = response.json() as { authorizeUrl: string };
    const url = new URL(authorizeUrl);
    const first = await app.inject({ url: `${url.pathname}${url.search}` });
    t.equal(first.statusCode, 302);
    const second = await app.inject({ url: `${url.pathname}${url.search}` });
    t.equal(second.statusCode, 302, 'a used ticket redirects back with an error');
    const location = new URL(String(second.headers.location));
    t.equal(location.origin, 'https://app.example.com');
    t.match(location.pathname, /^\/settings\//);
    t.equal(location.searchParams.get('error'), 'ticket_invalid');
  }
});

t.test('sandbox mode with no allowlist: loopback only, no lookalikes', async (t) => {
  const { app } = await build(t);
  for (const returnTo of [
    'http://localhost.evil.com/',
    'http://localhost@evil.com/',
    'http://evil.com/?localhost',
    'http://evil.com#localhost',
    'http://127.0.0.1.nip.io/',
    'http://127.0.0.1@evil.com/',
    'http://[::1]@evil.com/',
    'http://localhost%2eevil.com/',
    'javascript://localhost/%0aalert(1)',
    '//localhost/',
  ]) {
    const response = await authorize(app, returnTo);
    t.equal(response.statusCode, 422, `${returnTo} is refused`);
  }
  for (const returnTo of [
    'http://localhost:3000/done',
    'http://127.0.0.1:8080/x',
    'http://[::1]/y',
  ]) {
    const response = await authorize(app, returnTo);
    t.equal(response.statusCode, 201, `${returnTo} is allowed`);
  }
});

t.test('an allowlist prefix without a trailing slash ends at a path segment', async (t) => {
  const { app } = await build(t, {
    env: { ...LIVE, RETURN_TO_ALLOWLIST: 'https://app.example.com/settings' },
  });
  for (const [returnTo, status] of [
    ['https://app.example.com/settings', 201],
    ['https://app.example.com/settings/patreon', 201],
    ['https://app.example.com/settings-evil', 422],
    ['https://app.example.com/settingsX/patreon', 422],
  ] as const) {
    t.equal((await authorize(app, returnTo)).statusCode, status, returnTo);
  }
});
