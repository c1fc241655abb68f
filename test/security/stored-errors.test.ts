import { sql } from 'drizzle-orm';
import t from 'tap';
import { connectCreator, startGateway } from '../fixtures/gateway.js';
import {
  deliver,
  eventually,
  insertWebhook,
  listWebhookEvents,
  memberPayload,
} from '../fixtures/webhooks.js';
import { auth } from '../helper.js';

/** What a database error's text looks like: a statement, a relation, a parameter. */
const DATABASE_TEXT =
  /\b(select|insert into|update|delete from|relation|column|syntax|violates|constraint|unnest)\b|\$\d|::/i;

const SECRET = 'whsec-stored-errors-0123456789abcdef0123456789';

t.test(
  'no stored or returned error carries database text: a code and a sentence, the cause in the log',
  async (t) => {
    const gateway = await startGateway(t, { members: 20 });
    const { app } = gateway;
    const db = app.database.db;
    // The database refuses what the sync and the applier write: every failure below is a real
    // PostgreSQL error, with its SQL, relation name and parameters.
    await db.execute(sql`alter table member_tiers rename to member_tiers_away`);
    await db.execute(sql`alter table posts rename to posts_away`);

    const webhookId = await insertWebhook(app, { secret: SECRET });
    const delivery = await deliver(app, webhookId, {
      secret: SECRET,
      event: 'members:pledge:create',
      body: JSON.stringify(memberPayload({ memberId: 'c0ffee00-0000-4000-8000-000000000001' })),
    });
    t.equal(delivery.statusCode, 200);
    const [event] = await eventually('the first attempt to fail', async () => {
      const events = await listWebhookEvents(app);
      return events.every((e) => e.lastError !== null) && events.length > 0 ? events : undefined;
    });
    t.equal(event?.lastError?.code, 'APPLY_FAILED');

    // The first sync is meant to fail: watched below for its stored error.
    const { connectionId } = await connectCreator(gateway, { waitForSync: false });
    const job = await eventually('the sync to fail', async () => {
      const response = await app.inject({
        url: `/v1/sync-jobs?connectionId=${connectionId}`,
        headers: auth(),
      });
      return (response.json().data as { error: { code: string; detail: string } | null }[]).find(
        (j) => j.error,
      );
    });
    t.equal(job.error?.code, 'SYNC_ERROR');

    const answers = [
      (await app.inject({ url: '/v1/webhook-events', headers: auth() })).body,
      (await app.inject({ url: `/v1/webhook-events/${event?.id}`, headers: auth() })).body,
      (await app.inject({ url: `/v1/sync-jobs?connectionId=${connectionId}`, headers: auth() }))
        .body,
    ];
    for (const body of answers) t.notMatch(body, DATABASE_TEXT, 'no database text in the answer');
    const stored = await db.execute<{ error: string }>(sql`
    select coalesce(error_code, '') || ' ' || coalesce(last_error, '') as error from webhook_events
    union all
    select coalesce(error_code, '') || ' ' || coalesce(error_detail, '') from sync_jobs
    union all
    select coalesce(last_error, '') from outbound_deliveries`);
    t.ok(stored.rows.length >= 2);
    for (const { error } of stored.rows) t.notMatch(error, DATABASE_TEXT, `stored: ${error}`);

    await db.execute(sql`alter table member_tiers_away rename to member_tiers`);
    await db.execute(sql`alter table posts_away rename to posts`);
    const retried = await app.inject({
      method: 'POST',
      url: `/v1/webhook-events/${event?.id}/retry`,
      headers: auth(),
    });
    t.equal(retried.statusCode, 202);
    await eventually('the retried delivery to apply', async () =>
      (await listWebhookEvents(app)).find((e) => e.id === event?.id && e.status === 'applied'),
    );
  },
);
