import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import { isPatreonError } from '../../src/patreon/errors.js';
import { decodeMany, decodeOne, isInvalidIdError } from '../../src/patreon/json-api.js';

/** A members page as Patreon sends it, with the ids given. */
function membersPage(members: { id: string; userId?: string; tierId?: string }[]) {
  return {
    data: members.map((m) => ({
      type: 'member',
      id: m.id,
      attributes: { patron_status: 'active_patron' },
      relationships: {
        user: { data: { type: 'user', id: m.userId ?? '101' } },
        currently_entitled_tiers: { data: [{ type: 'tier', id: m.tierId ?? '7' }] },
        pledge_history: { data: [{ type: 'pledge-event', id: 'pledge_start:10000000' }] },
      },
    })),
    included: [
      {
        type: 'pledge-event',
        id: 'pledge_start:10000000',
        attributes: { date: '2026-03-01T00:00:00Z' },
      },
    ],
    meta: { pagination: { total: members.length } },
  };
}

function refusal(t: Test, body: unknown) {
  try {
    decodeMany(body, 'member', 'GET /campaigns/1/members');
  } catch (error) {
    t.ok(isPatreonError(error, 'PATREON_BAD_RESPONSE'), 'a bad response from Patreon');
    t.ok(isInvalidIdError(error), 'named as an id problem');
    return (error as { details: { path?: string } }).details.path;
  }
  t.fail('decoded');
  return undefined;
}

t.test('ids of the shape Patreon issues decode, on the fast and the zod path', (t) => {
  const page = membersPage([{ id: randomUUID() }, { id: randomUUID().toUpperCase() }]);
  t.equal(decodeMany(page, 'member', 'members').items.length, 2);
  // A numeric id (zod turns it into a string) still has to be one Patreon issues.
  const post = { data: { type: 'post', id: 42, attributes: { title: 'x' } } };
  t.equal(decodeOne(post, 'post', 'post').id, '42');
  t.end();
});

t.test('a page naming an id Patreon does not issue fails, with the path of that id', (t) => {
  const good = randomUUID();
  const cases: [string, unknown, string][] = [
    ['a member id that is not a UUID', membersPage([{ id: good }, { id: 'm-1' }]), 'data[1].id'],
    ['an 8 KB member id', membersPage([{ id: 'a'.repeat(8192) }]), 'data[0].id'],
    [
      'a user id (not included) that is not numeric',
      membersPage([{ id: good, userId: '12ab' }]),
      'relationships.user.data.id',
    ],
    [
      'a tier id over 19 digits',
      membersPage([{ id: good, tierId: '1'.repeat(20) }]),
      'relationships.currently_entitled_tiers.data.id',
    ],
    [
      'a pledge event id with a NUL',
      { ...membersPage([{ id: good }]), included: [{ type: 'pledge-event', id: 'a\u0000b' }] },
      'included[0].id',
    ],
  ];
  for (const [what, body, path] of cases) t.equal(refusal(t, body), path, what);
  t.end();
});

t.test('types we do not decode are not checked', (t) => {
  const body = {
    data: {
      type: 'post',
      id: '9',
      relationships: { client: { data: { type: 'client', id: 'x y' } } },
    },
  };
  t.same(decodeOne(body, 'post', 'post').id, '9');
  t.end();
});
