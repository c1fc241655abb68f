import { createServer } from 'node:http';
import t from 'tap';
import { launchBrowser, needsBrowser } from '../fixtures/browser.js';
import { listenOnFreePort } from '../fixtures/listen.js';
import { startSandbox } from '../fixtures/sandbox.js';

t.test(
  'a real browser completes the consent page with Allow and with Deny',
  needsBrowser,
  async (t) => {
    // The OAuth client's callback: a plain page, so the browser lands somewhere real.
    const callback = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<p>connected</p>'),
    );
    const redirectUri = `${(await listenOnFreePort(t, callback)).url}/oauth/callback`;

    const sandbox = await startSandbox(t, { members: 30, redirectUris: [redirectUri] });
    const browser = await launchBrowser(t);
    const page = await browser.newPage();
    const authorize = (state: string) =>
      `${sandbox.base}/oauth2/authorize?${new URLSearchParams({
        response_type: 'code',
        client_id: sandbox.state.config.clientId,
        redirect_uri: redirectUri,
        scope: 'identity identity[email] campaigns.members',
        state,
      })}`;

    await page.goto(authorize('allow-state'));
    t.match(await page.textContent('h1'), /wants to access your Patreon account/);
    const scopes = await page.locator('li code').allTextContents();
    t.same(
      scopes,
      ['identity', 'identity[email]', 'campaigns.members'],
      'the requested scopes are listed',
    );
    t.equal(await page.locator('input[type=radio]').count(), 11);
    await page.check('input[value="5000004"]');
    await Promise.all([page.waitForURL(`${redirectUri}?**`), page.click('button[value=allow]')]);
    const allowed = new URL(page.url());
    t.equal(allowed.searchParams.get('state'), 'allow-state');
    const code = allowed.searchParams.get('code') ?? '';
    t.ok(code, 'Allow redirects with a code');
    t.match(await page.textContent('p'), 'connected');

    const token = await sandbox.call('/api/oauth2/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        client_id: sandbox.state.config.clientId,
        client_secret: sandbox.state.config.clientSecret,
        redirect_uri: redirectUri,
      }).toString(),
    });
    t.equal(token.status, 200);
    const identity = await sandbox.call('/api/oauth2/v2/identity', {
      token: token.json.access_token,
    });
    t.equal(
      identity.json.data.id,
      '5000004',
      'the token belongs to the user picked in the browser',
    );

    await page.goto(authorize('deny-state'));
    await Promise.all([page.waitForURL(`${redirectUri}?**`), page.click('button[value=deny]')]);
    const denied = new URL(page.url());
    t.equal(denied.searchParams.get('error'), 'access_denied');
    t.equal(denied.searchParams.get('state'), 'deny-state');
    t.notOk(denied.searchParams.has('code'), 'Deny gives no code');
  },
);
