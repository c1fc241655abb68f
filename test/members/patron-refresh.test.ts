import { eq } from 'drizzle-orm';
import t from 'tap';
import { members } from '../../src/db/schema/index.js';
import { askEntitlement, entitlementEvents, fold, folded } from '../fixtures/entitlement-fold.js';
import { connectPatron, startGateway } from '../fixtures/gateway.js';
import { eventually } from '../fixtures/webhooks.js';
import { auth } from '../helper.js';

const HOUR = 3_600_000;

t.test(
  'a patron-only connection stays fresh: a cancellation at Patreon revokes within the refresh window',
  async (t) => {
    // The creator never connects: the answer comes from the patron's own memberships.
    const gateway = await startGateway(t, {
      members: 10,
      env: { ENTITLEMENT_SCHEDULE_POLL: '100ms', PATRON_REFRESH_INTERVAL: '24h' },
    });
    const { connectionId } = await connectPatron(gateway, {
      externalUserId: 'fan-1',
      userId: '5000000',
    });
    t.ok(connectionId, 'connected');
    const first = await askEntitlement(gateway.app, 'fan-1');
    t.equal(first.entitled, true);
    t.equal(first.source, 'patron_connection');
    t.ok(first.asOf, 'the answer says how fresh it is');
    t.same(
      (await entitlementEvents(gateway.app)).map((e) => [e.type, e.externalUserId]),
      [['entitlement.granted', 'fan-1']],
      'connecting told the host',
    );

    const listed = await gateway.app.inject({
      url: `/v1/connections/${connectionId}/memberships`,
      headers: auth(),
    });
    t.equal(listed.statusCode, 200);
    const [membership] = listed.json().data as { memberId: string; campaignId: string }[];
    t.equal(membership?.campaignId, '1234560');

    // The patron cancels at Patreon; no webhook reaches us (we registered none).
    await gateway.sandbox.call(`/_control/members/${membership?.memberId}/cancel`, {
      method: 'POST',
    });
    t.equal((await askEntitlement(gateway.app, 'fan-1')).entitled, true, 'not known yet');

    gateway.clock.advance(24 * HOUR + 60_000);
    const revoked = await eventually('the refresh to revoke', async () => {
      const events = await entitlementEvents(gateway.app);
      return events.length === 2 ? events[1] : undefined;
    });
    t.equal(revoked?.type, 'entitlement.revoked');
    const after = await askEntitlement(gateway.app, 'fan-1');
    t.equal(after.entitled, false);
    t.equal(after.reason, 'former_patron');
    t.ok(Date.parse(after.asOf as string) > Date.parse(first.asOf as string), 'asOf moved');
    t.same(folded(after), fold(await entitlementEvents(gateway.app))('fan-1', '1234560'));
    const [row] = await gateway.database.db
      .select({ status: members.patronStatus })
      .from(members)
      .where(eq(members.id, membership?.memberId as string));
    t.equal(row?.status, 'former_patron');

    // On demand: the same read, now.
    const refreshed = await gateway.app.inject({
      method: 'POST',
      url: `/v1/connections/${connectionId}/memberships/refresh`,
      headers: auth(),
    });
    t.equal(refreshed.statusCode, 200);
    t.equal(refreshed.json().data[0].patronStatus, 'former_patron');
    t.equal((await entitlementEvents(gateway.app)).length, 2, 'nothing new to tell');
  },
);
