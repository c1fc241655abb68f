import { count, eq, isNull, like, sql } from 'drizzle-orm';
import t from 'tap';
import {
  members,
  memberTiers,
  outboundEvents,
  pledgeEvents,
  posts,
  tiers,
} from '../../src/db/schema/index.js';
import { connectCreator, startGateway } from '../fixtures/gateway.js';
import { waitForJobs } from '../fixtures/sync.js';
import { eventually, listWebhooks, registeredWebhook } from '../fixtures/webhooks.js';
import { auth } from '../helper.js';

t.test('connecting a creator syncs the campaign, and a second pass rewrites nothing', async (t) => {
  const gateway = await startGateway(t, { members: 300 });
  const {
    connectionId,
    jobs: [job],
  } = await connectCreator(gateway);
  t.equal(job?.status, 'succeeded', JSON.stringify(job?.error));
  t.match(job?.counts, { campaigns: 1, members: 300, pages: 1 + 1, posts: 24 });
  t.ok((job?.counts.pledgeEvents ?? 0) > 300);
  t.equal(job?.counts.rateLimited, 0);
  t.ok(
    (job?.counts.patreonCalls ?? 0) <= 5,
    `${job?.counts.patreonCalls} Patreon calls: campaign, 1 member page, 1 post page`,
  );

  const db = gateway.database.db;
  const [memberCount] = await db
    .select({ n: count() })
    .from(members)
    .where(isNull(members.deletedAt));
  t.equal(memberCount?.n, 300);
  const [tierLinks] = await db.select({ n: count() }).from(memberTiers);
  t.ok((tierLinks?.n ?? 0) > 0);
  t.equal((await db.select().from(tiers).where(eq(tiers.id, '54321')))[0]?.amountCents, 300);
  const [postCount] = await db.select({ n: count() }).from(posts);
  t.equal(postCount?.n, 24);

  // Every table's row versions before and after an unchanged second pass.
  const versions = async () =>
    (
      await db.execute<{ v: string }>(
        sql`select string_agg(xmin::text || ':' || id, ',' order by id) as v from (
          select xmin, id from members union all select xmin, id from pledge_events
          union all select xmin, id from posts union all select xmin, id from tiers
          union all select xmin, id from patreon_users) rows`,
      )
    ).rows[0]?.v;
  const before = await versions();
  const again = await gateway.app.inject({
    method: 'POST',
    url: `/v1/connections/${connectionId}/sync`,
    headers: auth(),
    payload: { mode: 'reconcile' },
  });
  t.equal(again.statusCode, 202);
  const [reconcile] = (await waitForJobs(gateway.app, connectionId)).filter(
    (j) => j.kind === 'reconcile',
  );
  t.equal(reconcile?.status, 'succeeded');
  t.same(reconcile?.drift, { added: 0, changed: 0, removed: 0 }, 'nothing drifted');
  t.equal(await versions(), before, 'no row was rewritten');
});

t.test('reconcile repairs what webhooks missed and reports the drift', async (t) => {
  const gateway = await startGateway(t, { members: 40 });
  const { connectionId } = await connectCreator(gateway);
  const db = gateway.database.db;
  const [someone] = await db
    .select()
    .from(members)
    .where(eq(members.patronStatus, 'active_patron'))
    .limit(1);

  // Changes at Patreon that we are not told about: our webhook was deleted there.
  const hook = await registeredWebhook(gateway.app);
  const removed = await gateway.sandbox.call(`/api/oauth2/v2/webhooks/${hook.patreonWebhookId}`, {
    method: 'DELETE',
    token: gateway.sandbox.creatorToken(),
  });
  t.equal(removed.status, 204);
  const added = (
    await gateway.sandbox.call('/_control/members', {
      method: 'POST',
      body: { fullName: 'New Fan', tierId: '54321' },
    })
  ).json;
  await gateway.sandbox.call(`/_control/members/${someone?.id}/decline`, { method: 'POST' });
  const neverPaid = (
    await gateway.sandbox.call('/_control/members', {
      method: 'POST',
      body: { fullName: 'Gone Soon' },
    })
  ).json;
  await waitForJobs(gateway.app, connectionId);

  await gateway.app.inject({
    method: 'POST',
    url: `/v1/connections/${connectionId}/sync`,
    headers: auth(),
    payload: { mode: 'reconcile' },
  });
  await waitForJobs(gateway.app, connectionId);
  // That reconcile also registered our webhook again; once it has, it goes missing once more, so
  // the next change is again one only reconcile finds (not one a delivery tells us first).
  const repaired = await eventually('the webhook registered again', async () =>
    (await listWebhooks(gateway.app)).find(
      (h) => h.patreonWebhookId !== null && h.patreonWebhookId !== hook.patreonWebhookId,
    ),
  );
  const removedAgain = await gateway.sandbox.call(
    `/api/oauth2/v2/webhooks/${repaired.patreonWebhookId}`,
    { method: 'DELETE', token: gateway.sandbox.creatorToken() },
  );
  t.equal(removedAgain.status, 204);
  await gateway.sandbox.call(`/_control/members/${neverPaid.record.id}`, { method: 'DELETE' });
  await gateway.app.inject({
    method: 'POST',
    url: `/v1/connections/${connectionId}/sync`,
    headers: auth(),
    payload: { mode: 'reconcile' },
  });
  const jobs = (await waitForJobs(gateway.app, connectionId)).filter((j) => j.kind === 'reconcile');
  const [latest, earlier] = jobs;
  t.same(
    earlier?.drift,
    { added: 2, changed: 1, removed: 0 },
    'two new members, one declined charge',
  );
  t.same(latest?.drift, { added: 0, changed: 0, removed: 1 }, 'the deleted member');

  const [declined] = await db
    .select()
    .from(members)
    .where(eq(members.id, someone?.id as string));
  t.equal(declined?.patronStatus, 'declined_patron');
  const [gone] = await db.select().from(members).where(eq(members.id, neverPaid.record.id));
  t.ok(gone?.deletedAt, 'tombstoned, not dropped');
  const [fan] = await db.select().from(members).where(eq(members.id, added.record.id));
  t.equal(fan?.fullName, 'New Fan');
  const events = await db
    .select()
    .from(pledgeEvents)
    .where(eq(pledgeEvents.memberId, added.record.id));
  t.ok(events.length >= 1, 'its pledge history came along');

  // What reconcile found is told to the host as a webhook would have told it.
  const told = await db
    .select({ type: outboundEvents.type, key: outboundEvents.dedupeKey })
    .from(outboundEvents)
    .where(like(outboundEvents.dedupeKey, '%:sync:%'));
  const about = (memberId: string) =>
    told
      .filter((event) => event.key.endsWith(`:${memberId}`))
      .map((event) => event.type)
      .sort();
  // Not linked to a host user: no answer of GET /v1/entitlements moved, so no entitlement.*.
  t.same(about(added.record.id), ['member.created', 'pledge.created']);
  t.same(about(someone?.id as string), ['payment.declined']);
  t.same(about(neverPaid.record.id).includes('member.deleted'), true, 'the deleted member');
  const full = (await waitForJobs(gateway.app, connectionId)).find((j) => j.kind === 'full');
  t.same(
    told.filter((event) => event.key.includes(`:sync:${full?.id}:`)),
    [],
    'the first import is not an event per member',
  );
});
