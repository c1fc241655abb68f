import { count } from 'drizzle-orm';
import type { Page } from 'playwright-core';
import t from 'tap';
import { connections, oauthStates } from '../../src/db/schema/index.js';
import { launchBrowser, needsBrowser } from '../fixtures/browser.js';
import { startGateway } from '../fixtures/gateway.js';
import { auth } from '../helper.js';

t.test('connecting Patreon accounts in a real browser', needsBrowser, async (t) => {
  const gateway = await startGateway(t);
  const browser = await launchBrowser(t);
  const connectionCount = async () =>
    (await gateway.database.db.select({ n: count() }).from(connections))[0]?.n;

  /** Opens the authorize URL, picks a user on the sandbox consent page and clicks a button. */
  async function consent(page: Page, userId: string, button: 'allow' | 'deny') {
    await page.check(`input[value="${userId}"]`);
    await Promise.all([
      page.waitForURL(`${gateway.host.url}/**`),
      page.click(`button[value=${button}]`),
    ]);
    return new URL(page.url());
  }

  await t.test(
    'Allow: lands on returnTo?connection=… and the connection shows the user',
    async (t) => {
      const page = await browser.newPage();
      const { authorizeUrl } = await gateway.authorize({
        externalUserId: 'host-user-1',
        role: 'patron',
      });
      let callbackUrl = '';
      page.on('request', (request) => {
        if (request.url().includes('/oauth/patreon/callback')) callbackUrl = request.url();
      });
      await page.goto(authorizeUrl);
      t.match(await page.title(), /Allow access/);
      const landed = await consent(page, '5000002', 'allow');
      t.equal(landed.pathname, '/patreon/done');
      t.equal(landed.searchParams.get('tab'), '1', 'returnTo’s own query is kept');
      const id = landed.searchParams.get('connection');
      t.match(id, /^[0-9a-f-]{36}$/);
      t.notMatch(landed.toString(), /code=|state=/, 'no code or state reaches the host');

      const response = await gateway.app.inject({
        method: 'GET',
        url: `/v1/connections/${id}`,
        headers: auth(),
      });
      t.match(response.json(), {
        externalUserId: 'host-user-1',
        role: 'patron',
        status: 'active',
        patreonUser: { id: '5000002', fullName: /\w/, email: /@/ },
        scopes: ['identity', 'identity[email]', 'identity.memberships'],
      });
      t.ok(Date.parse(response.json().tokenExpiresAt) > Date.now() + 30 * 86_400_000);

      // The same callback URL again (history, a shared link): single use.
      await page.goto(callbackUrl);
      t.equal(new URL(page.url()).searchParams.get('error'), 'state_used');
      t.equal(await connectionCount(), 1, 'a replay creates nothing');
    },
  );

  await t.test('Deny → returnTo?error=access_denied, nothing created', async (t) => {
    const page = await browser.newPage();
    const { authorizeUrl } = await gateway.authorize({
      externalUserId: 'host-user-2',
      role: 'patron',
    });
    await page.goto(authorizeUrl);
    const landed = await consent(page, '5000003', 'deny');
    t.equal(landed.searchParams.get('error'), 'access_denied');
    t.equal(landed.searchParams.get('connection'), null);
    t.equal(await connectionCount(), 1);
  });

  await t.test('an expired state → returnTo?error=state_expired', async (t) => {
    const page = await browser.newPage();
    const { authorizeUrl } = await gateway.authorize({
      externalUserId: 'host-user-3',
      role: 'patron',
    });
    await page.goto(authorizeUrl);
    // The user lingered on the consent page past the state's lifetime.
    await gateway.database.db.update(oauthStates).set({ expiresAt: new Date(Date.now() - 1000) });
    const landed = await consent(page, '5000004', 'allow');
    t.equal(landed.searchParams.get('error'), 'state_expired');
    t.equal(await connectionCount(), 1);
  });

  await t.test('a callback carrying another browser’s state → browser_mismatch', async (t) => {
    const victim = await (await browser.newContext()).newPage();
    const attacker = await (await browser.newContext()).newPage();
    // The attacker starts their own flow (so they hold a cookie of their own) ...
    const own = await gateway.authorize({ externalUserId: 'host-user-4', role: 'patron' });
    await attacker.goto(own.authorizeUrl);
    // ... and captures the callback URL of someone else's consent instead of following it.
    const victimFlow = await gateway.authorize({ externalUserId: 'host-user-5', role: 'patron' });
    let stolen = '';
    await victim.route('**/oauth2/authorize/decision', async (route) => {
      const answer = await route.fetch({ maxRedirects: 0 });
      stolen = answer.headers().location ?? '';
      await route.abort();
    });
    await victim.goto(victimFlow.authorizeUrl);
    await victim.check('input[value="5000005"]');
    await victim.click('button[value=allow]').catch(() => {});
    await victim.waitForTimeout(300);
    t.match(stolen, /code=/);

    await attacker.goto(stolen);
    t.equal(new URL(attacker.url()).searchParams.get('error'), 'browser_mismatch');
    t.equal(await connectionCount(), 1, 'no connection for a cross-browser callback');
  });

  await t.test('an unknown ticket or state gets a plain page, not a redirect', async (t) => {
    const page = await browser.newPage();
    const start = await page.goto(`${gateway.publicUrl}/oauth/patreon/start?ticket=forged`);
    t.equal(start?.status(), 400);
    t.match(await page.textContent('h1'), /not valid/);
    t.equal(start?.headers()['referrer-policy'], 'no-referrer');
    const callback = await page.goto(
      `${gateway.publicUrl}/oauth/patreon/callback?code=x&state=forged`,
    );
    t.equal(callback?.status(), 400);
  });
});
