import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config/config.js';
import { createTokenCipher, type TokenCipher } from '../crypto/token-cipher.js';
import { startPollLoop } from '../jobs/poll-loop.js';
import { createMembershipRefresh, type MembershipRefresh } from './membership-refresh.js';
import { createOAuthFlow, type OAuthFlow } from './oauth-flow.js';
import { type ConnectionsService, createConnectionsService } from './service.js';
import { createTokenVault, type TokenVault } from './token-vault.js';

declare module 'fastify' {
  interface FastifyInstance {
    connections: {
      config: Config;
      /** Seals tokens and webhook secrets at rest. */
      cipher: TokenCipher;
      service: ConnectionsService;
      vault: TokenVault;
      flow: OAuthFlow;
      /** Patron connections' memberships, read again on a schedule and on demand. */
      memberships: MembershipRefresh;
      /** Work to start once a creator connection is stored (sync, webhook registration). */
      onCreatorConnected: ((connectionId: string) => Promise<void>)[];
    };
  }
}

/**
 * Connections and their tokens: the token cipher, the vault, the OAuth flow and the service,
 * shared with the routes (and, later, with sync and webhooks).
 */
export const connectionsPlugin = fp(
  async (app: FastifyInstance, { config }: { config: Config }) => {
    const db = app.database.db;
    const onCreatorConnected: ((connectionId: string) => Promise<void>)[] = [];
    const cipher = createTokenCipher(config.tokenKeys);
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
        for (const hook of onCreatorConnected) await hook(connectionId);
      },
    });
    const service = createConnectionsService({
      db,
      vault,
      patreon: app.patreon,
      log: app.log,
      entitlements: app.members,
    });
    app.decorate('connections', {
      config,
      cipher,
      service,
      vault,
      flow,
      memberships,
      onCreatorConnected,
    });
  },
  { name: 'connections', dependencies: ['database', 'members', 'patreon', 'metrics'] },
);
