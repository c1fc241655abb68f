import t from 'tap';
import { REDIRECT_URI, startSandbox } from '../fixtures/sandbox.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

t.test(
  'authorize validates the client and redirect_uri with an HTML page, never a redirect',
  async (t) => {
    const sandbox = await startSandbox(t, { members: 12 });
    const params = (overrides: Record<string, string>) =>
      new URLSearchParams({
        response_type: 'code',
        client_id: sandbox.state.config.clientId,
        redirect_uri: REDIRECT_URI,
        ...overrides,
      });

    const badClient = await sandbox.call(
      `/oauth2/authorize?${params({ client_id: 'someone-else' })}`,
    );
    t.equal(badClient.status, 400);
    t.notOk(badClient.headers.location);
    t.match(badClient.headers['content-type'], /text\/html/);
    t.match(badClient.text, /Unknown client/);

    const badRedirect = await sandbox.call(
      `/oauth2/authorize?${params({ redirect_uri: 'https://evil.example/cb' })}`,
    );
    t.equal(badRedirect.status, 400);
    t.notOk(badRedirect.headers.location);

    const badType = await sandbox.call(
      `/oauth2/authorize?${params({ response_type: 'token', state: 's1' })}`,
    );
    t.equal(badType.status, 302);
    t.equal(badType.headers.location, `${REDIRECT_URI}?error=unsupported_response_type&state=s1`);

    const badScope = await sandbox.call(
      `/oauth2/authorize?${params({ scope: 'identity admin', state: 's2' })}`,
    );
    t.equal(badScope.headers.location, `${REDIRECT_URI}?error=invalid_scope&state=s2`);

    const page = await sandbox.call(
      `/oauth2/authorize?${params({ scope: 'identity campaigns.members[email]', state: '<script>alert(1)</script>' })}`,
    );
    t.equal(page.status, 200);
    t.match(page.text, /campaigns\.members\[email\]/, 'requested scopes are listed');
    t.match(
      page.text,
      /type="radio" name="user_id" value="4410001" checked/,
      'the creator is offered first',
    );
    t.equal((page.text.match(/type="radio"/g) ?? []).length, 11, 'creator plus ten seeded patrons');
    t.notMatch(page.text, /<script>/, 'nothing from the request is rendered unescaped');

    const deny = await sandbox.call('/oauth2/authorize/decision', {
      method: 'POST',
      headers: FORM,
      body: `request_id=${/name="request_id" value="([^"]+)"/.exec(page.text)?.[1]}&user_id=4410001&decision=deny`,
    });
    t.equal(deny.status, 302);
    const denied = new URL(String(deny.headers.location));
    t.equal(denied.searchParams.get('error'), 'access_denied');
    t.equal(
      denied.searchParams.get('state'),
      '<script>alert(1)</script>',
      'state comes back unchanged',
    );
    t.notOk(denied.searchParams.has('code'));
  },
);

t.test('authorization-code grant: single-use codes, redirect_uri and client checks', async (t) => {
  const sandbox = await startSandbox(t, { members: 12, tokenTtlSeconds: 3600 });
  const { clientId, clientSecret } = sandbox.state.config;
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    scope: 'identity identity[email]',
  });
  const page = await sandbox.call(`/oauth2/authorize?${query}`);
  const requestId = /name="request_id" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
  const allow = await sandbox.call('/oauth2/authorize/decision', {
    method: 'POST',
    headers: FORM,
    body: new URLSearchParams({
      request_id: requestId,
      user_id: '5000003',
      decision: 'allow',
    }).toString(),
  });
  const code = new URL(String(allow.headers.location)).searchParams.get('code') ?? '';
  t.ok(code);

  const replayed = await sandbox.call('/oauth2/authorize/decision', {
    method: 'POST',
    headers: FORM,
    body: new URLSearchParams({
      request_id: requestId,
      user_id: '5000003',
      decision: 'allow',
    }).toString(),
  });
  t.equal(replayed.status, 400, 'a consent request is single use');

  const grant = (overrides: Record<string, string>) =>
    sandbox.call('/api/oauth2/token', {
      method: 'POST',
      headers: FORM,
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uri: REDIRECT_URI,
        ...overrides,
      }).toString(),
    });

  const wrongSecret = await grant({ client_secret: 'guess' });
  t.equal(wrongSecret.status, 401);
  t.same(wrongSecret.json, { error: 'invalid_client' });
  const missingCode = await grant({ code: '' });
  t.equal(missingCode.status, 400);
  t.same(missingCode.json, {
    error: 'invalid_request',
    error_description: 'Missing code parameter.',
  });

  const issued = await grant({});
  t.equal(issued.status, 200);
  t.same(Object.keys(issued.json).sort(), [
    'access_token',
    'expires_in',
    'refresh_token',
    'scope',
    'token_type',
    'version',
  ]);
  t.equal(issued.json.token_type, 'Bearer');
  t.equal(issued.json.expires_in, 3600);
  t.equal(issued.json.scope, 'identity identity[email]');
  t.equal(issued.json.version, '0.0.1');

  const reused = await grant({});
  t.equal(reused.status, 401, 'a code works once');
  t.same(reused.json, { error: 'invalid_grant' });

  const identity = await sandbox.call('/api/oauth2/v2/identity?fields%5Buser%5D=full_name,email', {
    token: issued.json.access_token,
  });
  t.equal(identity.json.data.id, '5000003');
  t.type(identity.json.data.attributes.email, 'string');
});

t.test('codes expire after ten minutes and must match redirect_uri', async (t) => {
  const sandbox = await startSandbox(t, { members: 3 });
  const { clientId, clientSecret } = sandbox.state.config;
  const codeFor = async () => {
    const page = await sandbox.call(
      `/oauth2/authorize?${new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI })}`,
    );
    const requestId = /name="request_id" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
    const allow = await sandbox.call('/oauth2/authorize/decision', {
      method: 'POST',
      headers: FORM,
      body: `request_id=${requestId}&user_id=5000000&decision=allow`,
    });
    return new URL(String(allow.headers.location)).searchParams.get('code') ?? '';
  };
  const exchange = (code: string, redirectUri = REDIRECT_URI) =>
    sandbox.call('/api/oauth2/token', {
      method: 'POST',
      headers: FORM,
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uri: redirectUri,
      }).toString(),
    });

  const stale = await codeFor();
  await sandbox.call('/_control/clock', { method: 'POST', body: { advanceSeconds: 601 } });
  t.same((await exchange(stale)).json, { error: 'invalid_grant' }, 'an expired code');

  const misdirected = await codeFor();
  t.same(
    (await exchange(misdirected, 'http://127.0.0.1:9/other')).json,
    { error: 'invalid_grant' },
    'a different redirect_uri',
  );
  t.same((await exchange(misdirected)).json, { error: 'invalid_grant' }, 'and the code is spent');

  const scope = (
    await sandbox.call('/api/oauth2/token', {
      method: 'POST',
      headers: FORM,
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: await codeFor(),
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uri: REDIRECT_URI,
      }).toString(),
    })
  ).json.scope;
  t.equal(
    scope,
    'identity identity[email] identity.memberships campaigns',
    'no scope asks for the v1 default, mapped to v2',
  );
});

t.test('refresh grant rotates single-use refresh tokens', async (t) => {
  const sandbox = await startSandbox(t, { members: 12 });
  const { clientId, clientSecret } = sandbox.state.config;
  const first = await sandbox.connect('5000001', 'identity');
  const refresh = (refreshToken: string, where: 'body' | 'query' = 'body') => {
    const params = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: clientId,
      client_secret: clientSecret,
    });
    return where === 'body'
      ? sandbox.call('/api/oauth2/token?is_creator_access=false', {
          method: 'POST',
          headers: FORM,
          body: params.toString(),
        })
      : sandbox.call(`/api/oauth2/token?${params}`, { method: 'POST' });
  };

  const second = await refresh(first.refresh_token);
  t.equal(second.status, 200, 'unknown query parameters are ignored');
  t.not(second.json.refresh_token, first.refresh_token, 'a new refresh token each time');
  t.not(second.json.access_token, first.access_token);

  const replay = await refresh(first.refresh_token);
  t.equal(replay.status, 401, 'the rotated-out refresh token is dead at once');
  t.same(replay.json, { error: 'invalid_grant' });

  const third = await refresh(second.json.refresh_token, 'query');
  t.equal(third.status, 200, 'parameters in the query string work too');
  const missing = await sandbox.call('/api/oauth2/token', {
    method: 'POST',
    headers: FORM,
    body: `grant_type=refresh_token&client_id=${clientId}&client_secret=${clientSecret}`,
  });
  t.same(missing.json, {
    error: 'invalid_request',
    error_description: 'Missing refresh_token parameter.',
  });
  const unsupported = await sandbox.call('/api/oauth2/token', {
    method: 'POST',
    headers: FORM,
    body: `grant_type=password&client_id=${clientId}&client_secret=${clientSecret}`,
  });
  t.equal(unsupported.status, 400);
  t.same(unsupported.json, { error: 'unsupported_grant_type' });

  const identity = await sandbox.call('/api/oauth2/v2/identity', {
    token: third.json.access_token,
  });
  t.equal(identity.json.data.id, '5000001');

  const counters = await sandbox.call('/_control/counters');
  const connection = counters.json.tokenRefreshes.find(
    (c: { userId: string }) => c.userId === '5000001',
  );
  t.equal(connection.refreshes, 2, 'refreshes are counted per connection');
});

t.test(
  'access tokens expire and can be revoked; the creator token refreshes like any other',
  async (t) => {
    const sandbox = await startSandbox(t, { members: 3, tokenTtlSeconds: 60 });
    const user = await sandbox.connect('5000000', 'identity');
    t.equal(
      (await sandbox.call('/api/oauth2/v2/identity', { token: user.access_token })).status,
      200,
    );
    await sandbox.call('/_control/clock', { method: 'POST', body: { advanceSeconds: 61 } });
    const expired = await sandbox.call('/api/oauth2/v2/identity', { token: user.access_token });
    t.equal(expired.status, 401, 'expires_in is honoured');
    t.equal(expired.json.errors[0].code_name, 'Unauthorized');

    const creator = await sandbox.call('/_control/creator-token');
    t.equal(creator.json.scope.split(' ').length, 9, 'the creator token carries every v2 scope');
    t.equal(
      (await sandbox.call('/api/oauth2/v2/campaigns', { token: creator.json.access_token })).status,
      401,
      'and expires too',
    );

    const { clientId, clientSecret } = sandbox.state.config;
    const refreshed = await sandbox.call('/api/oauth2/token', {
      method: 'POST',
      headers: FORM,
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: creator.json.refresh_token,
        client_id: clientId,
        client_secret: clientSecret,
      }).toString(),
    });
    t.equal(refreshed.status, 200);
    t.equal(
      (await sandbox.call('/api/oauth2/v2/campaigns', { token: refreshed.json.access_token }))
        .status,
      200,
    );
    t.equal(
      (await sandbox.call('/_control/creator-token')).json.access_token,
      refreshed.json.access_token,
      'the control API shows the newest creator pair',
    );

    const expire = await sandbox.call(`/_control/tokens/${refreshed.json.access_token}/expire`, {
      method: 'POST',
    });
    t.equal(expire.status, 200);
    t.equal(
      (await sandbox.call('/api/oauth2/v2/campaigns', { token: refreshed.json.access_token }))
        .status,
      401,
      'expired through the control API',
    );

    const revoke = await sandbox.call(`/_control/tokens/${refreshed.json.refresh_token}/revoke`, {
      method: 'POST',
    });
    t.equal(revoke.json.revoked, true);
    const dead = await sandbox.call('/api/oauth2/token', {
      method: 'POST',
      headers: FORM,
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshed.json.refresh_token,
        client_id: clientId,
        client_secret: clientSecret,
      }).toString(),
    });
    t.same(dead.json, { error: 'invalid_grant' }, 'a revoked connection cannot refresh');
    t.equal(
      (await sandbox.call('/_control/tokens/unknown/revoke', { method: 'POST' })).status,
      404,
    );
  },
);
