import t from 'tap';
import { startSandbox } from '../fixtures/sandbox.js';

const MEMBERS = '/api/oauth2/v2/campaigns/1234560/members';
const ALL_FIELDS =
  'fields%5Bmember%5D=patron_status,last_charge_status,pledge_cadence,is_free_trial,is_gifted,email,next_charge_date,currently_entitled_amount_cents' +
  '&fields%5Bpledge-event%5D=type,currency_code,tier_id,payment_status,amount_cents';

t.test('seeded members cover every status Patreon documents', async (t) => {
  const sandbox = await startSandbox(t, { members: 64 });
  const page = await sandbox.call(
    `${MEMBERS}?page%5Bcount%5D=64&include=pledge_history,currently_entitled_tiers&${ALL_FIELDS}`,
    { token: sandbox.creatorToken() },
  );
  t.equal(page.status, 200);
  type Member = {
    attributes: Record<string, unknown>;
    relationships: { currently_entitled_tiers: { data: unknown[] } };
  };
  const members: Member[] = page.json.data;
  const values = (name: string) => new Set(members.map((m) => m.attributes[name]));

  t.same(
    [...values('patron_status')].sort(),
    ['active_patron', 'declined_patron', 'former_patron', null].sort(),
    'every patron_status, followers included',
  );
  t.same(
    [...values('last_charge_status')].map(String).sort(),
    [
      'Paid',
      'Declined',
      'Deleted',
      'Pending',
      'Refunded',
      'Fraud',
      'Refunded by Patreon',
      'Other',
      'Partially Refunded',
      'Free Trial',
      'null',
    ].sort(),
    'every last_charge_status, and never charged',
  );
  t.ok(
    values('pledge_cadence').has(12) && values('pledge_cadence').has(1),
    'annual and monthly cadence',
  );
  t.ok(values('is_free_trial').has(true), 'free trials');
  t.ok(values('is_gifted').has(true), 'gifted memberships');
  t.ok(values('email').has(null), 'members without email');
  t.ok(
    members.some(
      (m) =>
        m.attributes.pledge_cadence === 12 &&
        m.attributes.patron_status === 'active_patron' &&
        m.attributes.next_charge_date === null,
    ),
    'an annual downgrade without next_charge_date',
  );
  for (const member of members) {
    const entitled = member.relationships.currently_entitled_tiers.data.length > 0;
    t.equal(
      entitled,
      member.attributes.patron_status === 'active_patron',
      'only active patrons are entitled',
    );
    if (member.attributes.patron_status === null)
      t.equal(member.attributes.currently_entitled_amount_cents, 0);
  }

  const events = page.json.included.filter((r: { type: string }) => r.type === 'pledge-event');
  t.ok(
    events.every((e: { id: string }) =>
      /^(pledge_start|pledge_upgrade|pledge_downgrade|pledge_delete|subscription):\d+$/.test(e.id),
    ),
    'pledge-event ids',
  );
  const types = new Set(events.map((e: { attributes: { type: string } }) => e.attributes.type));
  t.same([...types].sort(), [
    'pledge_delete',
    'pledge_downgrade',
    'pledge_start',
    'pledge_upgrade',
    'subscription',
  ]);
  const currencies = new Set(
    events.map((e: { attributes: { currency_code: string } }) => e.attributes.currency_code),
  );
  t.ok(currencies.size >= 3, `several currencies (${[...currencies].join(', ')})`);
  const deletedTier = events.filter(
    (e: { attributes: { tier_id: string | null } }) => e.attributes.tier_id === '54324',
  );
  t.ok(deletedTier.length > 0, 'the deleted tier still shows in pledge history');
  t.ok(
    events.every(
      (e: { attributes: { tier_id: unknown; amount_cents: unknown } }) =>
        (e.attributes.tier_id === null || typeof e.attributes.tier_id === 'string') &&
        Number.isInteger(e.attributes.amount_cents),
    ),
  );
});

t.test('data is deterministic per seed; reset starts a fresh world', async (t) => {
  const sandbox = await startSandbox(t, { members: 30, seed: 7 });
  const snapshot = async () => {
    const page = await sandbox.call(
      `${MEMBERS}?page%5Bcount%5D=30&fields%5Bmember%5D=full_name,patron_status,will_pay_amount_cents`,
      { token: sandbox.creatorToken() },
    );
    return page.json.data;
  };
  const before = await snapshot();
  const oldToken = sandbox.creatorToken();
  const reset = await sandbox.call('/_control/reset', {
    method: 'POST',
    body: { seed: 7, members: 30 },
  });
  t.equal(reset.status, 200);
  t.same(reset.json.seed, 7);
  t.type(reset.json.creatorToken.access_token, 'string');
  t.equal(
    (await sandbox.call('/api/oauth2/v2/campaigns', { token: oldToken })).status,
    401,
    'tokens do not survive a reset',
  );
  t.same(await snapshot(), before, 'the same seed gives the same members');

  await sandbox.call('/_control/reset', { method: 'POST', body: { seed: 8, members: 30 } });
  const other = await snapshot();
  t.not(other[0].id, before[0].id, 'another seed gives other members');

  const big = await sandbox.call('/_control/reset', { method: 'POST', body: { members: 200_000 } });
  t.equal(big.json.members, 200_000);
  const token = sandbox.creatorToken();
  const page = await sandbox.call(`${MEMBERS}?page%5Bcount%5D=1000`, { token });
  t.equal(page.json.meta.pagination.total, 200_000);
  const campaign = await sandbox.call(
    '/api/oauth2/v2/campaigns/1234560?fields%5Bcampaign%5D=patron_count',
    { token },
  );
  t.ok(
    campaign.json.data.attributes.patron_count > 100_000,
    'patron_count covers the lazily generated population',
  );
  const member = await sandbox.call(`/api/oauth2/v2/members/${page.json.data[999].id}`, { token });
  t.equal(member.status, 200, 'any member id resolves without a stored copy');
  t.equal(
    (await sandbox.call('/_control/reset', { method: 'POST', body: { members: 200_001 } })).status,
    400,
  );
});
