import t from 'tap';
import { startSandbox } from '../fixtures/sandbox.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const NUMERIC = /^\d+$/;
const MEMBERS = '/api/oauth2/v2/campaigns/1234560/members';

t.test('JSON:API documents: sparse fieldsets, includes, ids, timestamps', async (t) => {
  const sandbox = await startSandbox(t, { members: 50 });
  const token = sandbox.creatorToken();

  const bare = await sandbox.call(`${MEMBERS}?page%5Bcount%5D=5`, { token });
  t.equal(bare.status, 200);
  t.equal(bare.json.data.length, 5);
  for (const member of bare.json.data) {
    t.same(
      Object.keys(member).sort(),
      ['attributes', 'id', 'type'],
      'only type and id without fields or include',
    );
    t.same(member.attributes, {});
    t.equal(member.type, 'member');
    t.match(member.id, UUID, 'member ids are UUIDs');
  }
  t.notOk('included' in bare.json);

  const sparse = await sandbox.call(
    `${MEMBERS}?page%5Bcount%5D=20&include=user,currently_entitled_tiers,campaign&fields%5Bmember%5D=full_name,patron_status,pledge_relationship_start&fields%5Btier%5D=title`,
    { token },
  );
  t.equal(sparse.status, 200);
  for (const member of sparse.json.data) {
    t.same(Object.keys(member.attributes).sort(), [
      'full_name',
      'patron_status',
      'pledge_relationship_start',
    ]);
    t.same(Object.keys(member.relationships).sort(), [
      'campaign',
      'currently_entitled_tiers',
      'user',
    ]);
    t.same(member.relationships.campaign.data, { type: 'campaign', id: '1234560' });
    t.equal(
      member.relationships.campaign.links.related,
      `${sandbox.base}/api/oauth2/v2/campaigns/1234560`,
    );
    t.match(member.relationships.user.data.id, NUMERIC);
    t.ok(Array.isArray(member.relationships.currently_entitled_tiers.data));
    if (member.attributes.pledge_relationship_start !== null)
      t.match(member.attributes.pledge_relationship_start, /T\d\d:\d\d:\d\d(\.\d+)?\+00:00$/);
  }
  const included: {
    type: string;
    id: string;
    attributes: Record<string, unknown>;
    relationships?: unknown;
  }[] = sparse.json.included;
  const keys = included.map((r) => `${r.type}:${r.id}`);
  t.equal(new Set(keys).size, keys.length, 'included is de-duplicated by type and id');
  t.equal(
    keys.filter((k) => k === 'campaign:1234560').length,
    1,
    'the shared campaign appears once',
  );
  for (const resource of included) {
    t.type(resource.id, 'string');
    t.notOk(
      'relationships' in resource,
      'no relationships on included resources without nested include',
    );
    if (resource.type === 'tier')
      t.same(Object.keys(resource.attributes), ['title'], 'included tiers are sparse too');
    else t.same(resource.attributes, {}, `${resource.type} has no attributes unless asked`);
  }

  const raw = await sandbox.call(`${MEMBERS}?page[count]=5&fields[member]=full_name`, { token });
  const encoded = await sandbox.call(`${MEMBERS}?page%5Bcount%5D=5&fields%5Bmember%5D=full_name`, {
    token,
  });
  t.equal(raw.status, 200, 'raw square brackets are accepted');
  t.same(raw.json.data, encoded.json.data, 'raw and URL-encoded brackets mean the same');
  t.same(Object.keys(raw.json.data[0].attributes), ['full_name']);

  const single = await sandbox.call(
    `/api/oauth2/v2/members/${bare.json.data[0].id}?include=user&fields%5Buser%5D=full_name`,
    { token },
  );
  t.equal(single.status, 200);
  t.equal(single.json.links.self, `${sandbox.base}/api/oauth2/v2/members/${bare.json.data[0].id}`);
  t.same(Object.keys(single.json.included[0].attributes), ['full_name']);

  const campaign = await sandbox.call(
    '/api/oauth2/v2/campaigns/1234560?include=tiers,benefits,goals,creator&fields%5Bcampaign%5D=name,currency,patron_count,created_at',
    { token },
  );
  t.equal(campaign.json.data.attributes.currency, 'USD');
  t.type(campaign.json.data.attributes.patron_count, 'number');
  t.match(campaign.json.data.attributes.created_at, /\+00:00$/);
  t.same(campaign.json.data.relationships.goals, { data: [] }, 'goals are always empty');
  t.equal(
    campaign.json.data.relationships.creator.links.related,
    `${sandbox.base}/api/oauth2/v2/user/4410001`,
  );
  t.same(
    campaign.json.data.relationships.tiers.data.map((d: { id: string }) => d.id),
    ['54321', '54322', '54323'],
    'the deleted tier is not part of the campaign',
  );
  const benefit = campaign.json.included.find((r: { type: string }) => r.type === 'benefit');
  t.match(benefit.id, NUMERIC);
});

t.test('pagination: cursors, totals, default count and caps', async (t) => {
  const sandbox = await startSandbox(t, { members: 2500 });
  const token = sandbox.creatorToken();

  const first = await sandbox.call(MEMBERS, { token });
  t.equal(first.json.data.length, 20, 'default page[count] is 20');
  t.equal(first.json.meta.pagination.total, 2500);
  t.type(first.json.meta.pagination.cursors.next, 'string');

  const capped = await sandbox.call(`${MEMBERS}?page%5Bcount%5D=5000`, { token });
  t.equal(capped.json.data.length, 1000, 'members are capped at 1000 per page');
  const history = await sandbox.call(`${MEMBERS}?page%5Bcount%5D=5000&include=pledge_history`, {
    token,
  });
  t.equal(history.json.data.length, 500, 'the cap drops to 500 with pledge_history');

  const seen = new Set<string>();
  let url: string | undefined = `${MEMBERS}?page%5Bcount%5D=1000&fields%5Bmember%5D=patron_status`;
  let pages = 0;
  let last:
    | {
        json: {
          links?: { next: string };
          meta: { pagination: { cursors: { next: string | null } } };
        };
      }
    | undefined;
  while (url) {
    const page = await sandbox.call(url, { token });
    t.equal(page.status, 200);
    for (const member of page.json.data) seen.add(member.id);
    pages++;
    last = page;
    url = page.json.links?.next;
    if (url) {
      t.ok(url.startsWith(`${sandbox.base}${MEMBERS}?`), 'links.next is a full URL');
      t.match(url, /page%5Bcursor%5D=/);
      t.match(url, /fields%5Bmember%5D=patron_status/, 'links.next repeats the query');
      t.equal(
        new URL(url).searchParams.get('page[cursor]'),
        page.json.meta.pagination.cursors.next,
      );
    }
  }
  t.equal(pages, 3);
  t.equal(seen.size, 2500, 'every member exactly once');
  t.equal(last?.json.meta.pagination.cursors.next, null, 'the last page has a null cursor');
  t.notOk(last?.json.links, 'and no links.next');

  const badCursor = await sandbox.call(`${MEMBERS}?page%5Bcursor%5D=nonsense`, { token });
  t.equal(badCursor.status, 400);

  const posts = await sandbox.call(
    '/api/oauth2/v2/campaigns/1234560/posts?page%5Bcount%5D=10&fields%5Bpost%5D=title,is_public,tiers,published_at',
    { token },
  );
  t.equal(posts.json.data.length, 10);
  t.equal(posts.json.meta.pagination.total, 24);
  t.ok(posts.json.links.next);
  const paid = posts.json.data.find(
    (p: { attributes: { is_public: boolean } }) => !p.attributes.is_public,
  );
  for (const tierId of paid.attributes.tiers) t.type(tierId, 'string', 'post tiers are string ids');
  const post = await sandbox.call(`/api/oauth2/v2/posts/${paid.id}?include=campaign,user`, {
    token,
  });
  t.equal(post.json.data.relationships.campaign.data.id, '1234560');
});

t.test('pagination quirks: ignored page[count], last page keeps its cursor', async (t) => {
  const sandbox = await startSandbox(t, { members: 45 });
  const token = sandbox.creatorToken();
  const set = await sandbox.call('/_control/quirks', {
    method: 'PUT',
    body: { ignorePageCount: true, lastPageKeepsCursor: true },
  });
  t.equal(set.status, 200);
  t.equal(set.json.ignorePageCount, true);

  const ids: string[] = [];
  let url: string | undefined = `${MEMBERS}?page%5Bcount%5D=100`;
  const cursors: (string | null)[] = [];
  for (let i = 0; i < 5 && url; i++) {
    const page = await sandbox.call(url, { token });
    t.ok(page.json.data.length <= 20, 'page[count] ignored: fixed 20');
    ids.push(...page.json.data.map((m: { id: string }) => m.id));
    cursors.push(page.json.meta.pagination.cursors.next);
    url = page.json.links?.next;
  }
  t.equal(new Set(ids).size, 45);
  t.ok(
    cursors.every((c) => typeof c === 'string'),
    'every page, the last included, carries a cursor',
  );
  t.equal(cursors[3], cursors[4], 'past the end the cursor repeats with an empty page');
});

t.test('errors are JSON:API objects with string status and code_name', async (t) => {
  const sandbox = await startSandbox(t, { members: 5 });
  const token = sandbox.creatorToken();
  const cases: [string, Parameters<typeof sandbox.call>[1], number, string][] = [
    [`${MEMBERS}?include=pledges`, { token }, 400, 'unknown include'],
    [
      '/api/oauth2/v2/campaigns?include=memberships',
      { token },
      400,
      'include not offered by this endpoint',
    ],
    [`${MEMBERS}?fields%5Bmember%5D=full_name,shoe_size`, { token }, 400, 'unknown field'],
    [`${MEMBERS}?fields%5Bspaceship%5D=name`, { token }, 400, 'unknown type in fields'],
    [`${MEMBERS}?include=user.nonsense`, { token }, 400, 'unknown nested include'],
    ['/api/oauth2/v2/identity', { token, userAgent: null }, 400, 'missing User-Agent'],
    ['/api/oauth2/v2/identity', { token: 'not-a-token' }, 401, 'bad token'],
    ['/api/oauth2/v2/identity', {}, 401, 'no token'],
    ['/api/oauth2/v2/campaigns/999', { token }, 404, 'unknown campaign'],
    [
      '/api/oauth2/v2/members/00000000-0000-4000-8000-000000000000',
      { token },
      404,
      'unknown member',
    ],
    ['/api/oauth2/v2/nothing-here', { token }, 404, 'unknown path'],
    ['/api/oauth2/v2/campaigns/2345670/members', { token }, 403, "another creator's campaign"],
    ['/api/oauth2/v2/identity', { token, method: 'PUT' }, 405, 'wrong method'],
    ['/api/oauth2/v2/webhooks', { token, method: 'DELETE' }, 405, 'wrong method on a collection'],
  ];
  for (const [path, init, status, why] of cases) {
    const reply = await sandbox.call(path, init);
    t.equal(reply.status, status, why);
    t.equal(reply.json.errors.length, 1, why);
    const error = reply.json.errors[0];
    t.equal(error.status, String(status), `${why}: status is a string`);
    t.type(error.code_name, 'string');
    t.type(error.title, 'string');
    t.type(error.detail, 'string');
    t.match(error.id, UUID);
    t.ok(error.code === null || typeof error.code === 'number');
  }
  const unauthorized = await sandbox.call('/api/oauth2/v2/identity', { token: 'nope' });
  t.equal(unauthorized.json.errors[0].code, 1);
  t.equal(unauthorized.json.errors[0].code_name, 'Unauthorized');
  const wrongMethod = await sandbox.call('/api/oauth2/v2/identity', { token, method: 'POST' });
  t.equal(wrongMethod.headers.allow, 'GET');
});
