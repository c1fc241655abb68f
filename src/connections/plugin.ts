import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config/config.js';
import { startPollLoop } from '../jobs/poll-loop.js';
import { createMembershipRefresh, type MembershipRefresh } from './membership-refresh.js';
import { createOAuthFlow, type OAuthFlow } from './oauth-flow.js';
import { type ConnectionsService, createConnectionsService } from './service.js';
import { createTokenVault, type TokenVault } from './token-vault.js';

declare module 'fastify' {
  interface FastifyInstance {
    connections: {
      service: ConnectionsService;
      vault: TokenVault;
      flow: OAuthFlow;
      /** Patron connections' memberships, read again on a schedule and on demand. */
      memberships: MembershipRefresh;
    };
  }
}

/** What reacts to a creator connection being stored; app.ts names them. */
export type CreatorConnected = (connectionId: string) => Promise<unknown>;

/**
 * Connections and their tokens: the vault, the OAuth flow and the service, shared with the
 * routes, sync and webhooks. `onCreatorConnected` runs, in order, once a creator connects.
 */
export const connectionsPlugin = fp(
  async (
    app: FastifyInstance,
    { config, onCreatorConnected }: { config: Config; onCreatorConnected: CreatorConnected[] },
  ) => {
    const db = app.database.db;
    const cipher = app.cipher;
    const vault = createTokenVault({
      db,
      cipher,
      patreon: app.patreon,
      refreshMarginMs: config.oauth.refreshMarginSeconds * 1000,
      log: app.log,
      metrics: app.metrics,
    });
    const memberships = createMembershipRefresh({
      db,
      vault,
      patreon: app.patreon,
      entitlements: app.members,
      clock: app.clock,
      schedule: config.entitlements.patronRefresh,
      log: app.log,
    });
    const refreshes = startPollLoop({
      everyMs: config.entitlements.schedulePollMs,
      step: memberships.due,
      log: app.log,
      what: 'patron membership refresh',
    });
    app.addHook('onClose', () => refreshes.close());
    const flow = createOAuthFlow({
      db,
      config,
      patreon: app.patreon,
      vault,
      log: app.log,
      entitlements: app.members,
      clock: app.clock,
      scheduleRefresh: memberships.scheduleAfterConnect,
      onCreatorConnected: async (connectionId) => {
        for (const react of onCreatorConnected) await react(connectionId);
      },
    });
    const service = createConnectionsService({
      db,
      vault,
      patreon: app.patreon,
      log: app.log,
      entitlements: app.members,
    });
    app.decorate('connections', { service, vault, flow, memberships });
  },
  { name: 'connections', dependencies: ['database', 'cipher', 'members', 'patreon', 'metrics'] },
);
