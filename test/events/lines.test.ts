import { asc, eq, sql } from 'drizzle-orm';
import t from 'tap';
import { outboundDeliveries } from '../../src/db/schema/index.js';
import { promoteHeads } from '../../src/events/delivery-lines.js';
import { buildEvents, createEndpoint, memberEvent, record } from './fixture.js';

const A = 'a1b2c3d4-0000-4000-8000-0000000003a1';
const B = 'a1b2c3d4-0000-4000-8000-0000000003b1';

t.test('fan-out makes one head of line per member; the sweep repairs a missed one', async (t) => {
  // A worker that sleeps through the test, so the lines stay as fan-out left them.
  const { app } = await buildEvents(t, { env: { EVENTS_POLL_INTERVAL_MS: '60000' } });
  await createEndpoint(app, { url: 'http://127.0.0.1:9/unused' });
  const db = app.database.db;
  await record(app, [memberEvent(A), memberEvent(B), memberEvent(A)]);
  await record(app, [memberEvent(A), memberEvent(B)]);
  const lines = async () =>
    (
      await db
        .select({
          key: outboundDeliveries.resourceKey,
          ready: outboundDeliveries.ready,
          status: outboundDeliveries.status,
        })
        .from(outboundDeliveries)
        .orderBy(asc(outboundDeliveries.eventSeq))
    ).map((row) => `${row.key?.slice(-3)}:${row.ready ? 'head' : 'waits'}:${row.status}`);
  t.same(await lines(), [
    '3a1:head:pending',
    '3b1:head:pending',
    '3a1:waits:pending',
    '3a1:waits:pending',
    '3b1:waits:pending',
  ]);

  // A's head completes without handing on (as when the next event was not yet committed).
  const [head] = await db
    .select({ id: outboundDeliveries.id })
    .from(outboundDeliveries)
    .where(eq(outboundDeliveries.resourceKey, `member:${A}`))
    .orderBy(asc(outboundDeliveries.eventSeq))
    .limit(1);
  await db
    .update(outboundDeliveries)
    .set({ status: 'delivered' })
    .where(eq(outboundDeliveries.id, head?.id as string));
  t.equal(await promoteHeads(db), 1, 'only the next of A is promoted');
  t.same(await lines(), [
    '3a1:head:delivered',
    '3b1:head:pending',
    '3a1:head:pending',
    '3a1:waits:pending',
    '3b1:waits:pending',
  ]);
  t.equal(await promoteHeads(db), 0, 'nothing else to repair');
  const [{ n } = { n: 0 }] = (
    await db.execute<{ n: number }>(
      sql`select count(*)::int as n from outbound_deliveries where ready and status = 'pending'`,
    )
  ).rows;
  t.equal(n, 2);
});
