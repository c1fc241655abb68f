import { inArray, sql } from 'drizzle-orm';
import t from 'tap';
import {
  outboundAttempts,
  outboundDeliveries,
  outboundEvents,
  webhookEvents,
} from '../../src/db/schema/index.js';
import { pruneFinished } from '../../src/jobs/retention.js';
import { createEndpoint, memberEvent, record } from '../events/fixture.js';
import { insertWebhook } from '../fixtures/webhooks.js';
import { build } from '../helper.js';

const DAY = 86_400_000;

t.test(
  'finished records older than the retention period go; what is still owed stays',
  async (t) => {
    const { app } = await build(t);
    const db = app.database.db;
    const schedules = await app.queue.getSchedules();
    t.ok(
      schedules.some((s: { name: string }) => s.name === 'retention'),
      'an hourly prune is scheduled',
    );

    // Deliveries in from Patreon, 40 days old except the last, in every status.
    const webhookId = await insertWebhook(app, { secret: 'retention-secret' });
    const statuses = ['applied', 'ignored', 'failed', 'received', 'applied'] as const;
    const stored = await db
      .insert(webhookEvents)
      .values(
        statuses.map((status, i) => ({
          webhookId,
          event: 'members:update',
          dedupeKey: `retention-${i}`,
          body: Buffer.from('{}'),
          status,
          receivedAt: new Date(Date.now() - (i === 4 ? 1 : 40) * DAY),
        })),
      )
      .returning({ id: webhookEvents.id });
    const ids = stored.map((row) => row.id);

    // Events out, one endpoint (disabled: nothing here is sent), 40 days old except the last.
    const endpoint = await createEndpoint(app, { url: 'http://127.0.0.1:9/host', enabled: false });
    const kinds = ['delivered', 'dead', 'pending', 'failed', 'none', 'delivered'] as const;
    await record(
      app,
      kinds.map((_, i) => memberEvent(`retention-member-${i}`)),
    );
    const events = await db
      .select({ id: outboundEvents.id, seq: outboundEvents.seq })
      .from(outboundEvents)
      .orderBy(outboundEvents.seq);
    t.equal(events.length, kinds.length);
    await db.delete(outboundDeliveries);
    for (const [i, kind] of kinds.entries()) {
      const event = events[i] as { id: string; seq: number };
      await db
        .update(outboundEvents)
        .set({ createdAt: new Date(Date.now() - (i === 5 ? 1 : 40) * DAY) })
        .where(sql`${outboundEvents.id} = ${event.id}`);
      if (kind === 'none') continue;
      const [delivery] = await db
        .insert(outboundDeliveries)
        .values({ eventId: event.id, endpointId: endpoint.id, eventSeq: event.seq, status: kind })
        .returning({ id: outboundDeliveries.id });
      await db.insert(outboundAttempts).values({
        deliveryId: delivery?.id as string,
        attemptedAt: new Date(),
        statusCode: kind === 'delivered' ? 200 : 500,
        durationMs: 3,
      });
    }

    const pruned = await pruneFinished(db, new Date(Date.now() - 30 * DAY));
    t.same(pruned, { webhookEvents: 2, outboundEvents: 3 });

    const left = await db
      .select({ id: webhookEvents.id, status: webhookEvents.status })
      .from(webhookEvents)
      .where(inArray(webhookEvents.id, ids))
      .orderBy(webhookEvents.id);
    t.same(
      left.map((row) => row.status),
      ['failed', 'received', 'applied'],
      'old applied and ignored deliveries deleted; failed, unapplied and recent ones kept',
    );
    const kept = await db.select({ id: outboundEvents.id }).from(outboundEvents);
    t.same(
      new Set(kept.map((row) => row.id)),
      new Set([events[2]?.id, events[3]?.id, events[5]?.id]),
      'old delivered, dead-lettered and endpoint-less events deleted; pending, retrying and recent kept',
    );
    const attempts = await db
      .select({ statusCode: outboundAttempts.statusCode })
      .from(outboundAttempts)
      .orderBy(outboundAttempts.id);
    t.same(
      attempts.map((a) => a.statusCode),
      [500, 500, 200],
      'the attempts of deleted deliveries went with them',
    );
    t.same(
      await pruneFinished(db, new Date(Date.now() - 30 * DAY)),
      {
        webhookEvents: 0,
        outboundEvents: 0,
      },
      'a second prune finds nothing',
    );
  },
);
