import { eq } from 'drizzle-orm';
import t from 'tap';
import { members, outboundEvents, posts } from '../../src/db/schema/index.js';
import { TRIGGERS } from '../../src/webhooks/triggers.js';
import { connectCreator, startGateway } from '../fixtures/gateway.js';
import { waitForJobs } from '../fixtures/sync.js';
import { eventually, listWebhookEvents, registeredWebhook } from '../fixtures/webhooks.js';

t.test(
  'sandbox deliveries reach our tables: members and posts, with their semantic changes',
  async (t) => {
    const gateway = await startGateway(t, { members: 20 });
    // The sync is waited for below, after what the connection registered at Patreon is checked.
    const { connectionId } = await connectCreator(gateway, { waitForSync: false });
    const webhook = await registeredWebhook(gateway.app);
    t.equal(webhook.campaignId, '1234560');
    t.equal(webhook.uri, `${gateway.publicUrl}/webhooks/patreon/${webhook.id}`);
    t.same([...webhook.triggers].sort(), [...TRIGGERS].sort(), 'every trigger we handle');
    const atPatreon = (await gateway.sandbox.call('/_control/webhooks')).json;
    t.equal(atPatreon.length, 1, 'one webhook at Patreon');
    await waitForJobs(gateway.app, connectionId);
    const db = gateway.database.db;

    const added = await gateway.sandbox.call('/_control/members', {
      method: 'POST',
      body: { fullName: 'Web Hook', tierId: '54321' },
    });
    const memberId = added.json.record.id as string;
    const row = await eventually('the new member', async () => {
      const [found] = await db.select().from(members).where(eq(members.id, memberId));
      return found?.patronStatus === 'active_patron' ? found : undefined;
    });
    t.equal(row.fullName, 'Web Hook');
    t.equal(row.lastSource, 'webhook');

    await gateway.sandbox.call(`/_control/members/${memberId}/decline`, { method: 'POST' });
    await eventually('the declined charge', async () => {
      const [found] = await db.select().from(members).where(eq(members.id, memberId));
      return found?.lastChargeStatus === 'Declined';
    });
    await gateway.sandbox.call(`/_control/members/${memberId}/recover`, { method: 'POST' });
    await gateway.sandbox.call(`/_control/members/${memberId}/cancel`, { method: 'POST' });
    await eventually('the cancellation', async () => {
      const [found] = await db.select().from(members).where(eq(members.id, memberId));
      return found?.patronStatus === 'former_patron';
    });

    // One change can arrive as more than one delivery: the row shows it once the first is
    // applied, the others follow.
    const forMember = await eventually('every delivery applied', async () => {
      const events = await listWebhookEvents(gateway.app);
      const mine = events.filter((e) => e.resource.id === memberId).reverse();
      return mine.every((e) => e.status === 'applied' || e.status === 'ignored') ? mine : undefined;
    });
    t.ok(forMember.length > 0, 'all applied');
    const changes = forMember.flatMap((e) => e.changes);
    for (const change of [
      'member_created',
      'new_patron',
      'charge_declined',
      'charge_recovered',
      'cancelled',
    ]) {
      t.ok(changes.includes(change), `derived ${change}`);
    }
    const recorded = await db.select({ type: outboundEvents.type }).from(outboundEvents);
    const types = new Set(recorded.map((r) => r.type));
    // (No `entitlement.*`: no host user connected this patron; test/members/ covers that.)
    for (const type of [
      'member.created',
      'pledge.created',
      'payment.declined',
      'payment.recovered',
      'pledge.deleted',
    ]) {
      t.ok(types.has(type), `host event ${type} recorded`);
    }

    const published = await gateway.sandbox.call('/_control/posts', {
      method: 'POST',
      body: { title: 'Fresh chapter', tierIds: ['54321'] },
    });
    const postId = published.json.record.id as string;
    await eventually('the post', async () => {
      const [found] = await db.select().from(posts).where(eq(posts.id, postId));
      return found?.title === 'Fresh chapter';
    });
    await gateway.sandbox.call(`/_control/posts/${postId}`, { method: 'DELETE' });
    await eventually('the post tombstone', async () => {
      const [found] = await db.select().from(posts).where(eq(posts.id, postId));
      return found?.deletedAt != null;
    });
  },
);
