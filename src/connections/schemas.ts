import { z } from 'zod';
import { connectionRoles, connectionStatuses } from '../db/schema/index.js';
import { patreonScopes } from '../patreon/oauth.js';
import { pageQuery } from '../shared/pagination.js';

export const connectionRole = z
  .enum(connectionRoles)
  .describe('`creator`: manages a campaign (sync, webhooks). `patron`: proves their memberships.');
export const connectionStatus = z
  .enum(connectionStatuses)
  .describe(
    '`active`; `refresh_failed` (Patreon refused a refresh, retried with back-off); `revoked` (the user or Patreon revoked access: reconnect); `disconnected` (disconnected through this API).',
  );

/** The public view of a connection: an allow-list, so a token column can never leak. */
export const connectionView = z
  .object({
    id: z.uuid(),
    externalUserId: z.string().describe('Your own id for the user, as given when connecting.'),
    role: connectionRole,
    status: connectionStatus,
    scopes: z.array(z.string()).describe('Scopes Patreon granted.'),
    patreonUser: z.object({
      id: z.string(),
      fullName: z.string().nullable(),
      email: z.string().nullable().describe('Only when the `identity[email]` scope was granted.'),
    }),
    tokenExpiresAt: z.iso.datetime().nullable(),
    lastRefreshedAt: z.iso.datetime().nullable(),
    lastError: z
      .object({ code: z.string(), at: z.iso.datetime() })
      .nullable()
      .describe('The last failure talking to Patreon for this connection, if any.'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({
    id: 'Connection',
    example: {
      id: '0b6d1c55-8b0a-4a55-a1c3-3f4fb9f2a6de',
      externalUserId: 'user_42',
      role: 'creator',
      status: 'active',
      scopes: ['identity', 'campaigns', 'campaigns.members'],
      patreonUser: { id: '1234567', fullName: 'Ada Creator', email: null },
      tokenExpiresAt: '2026-12-27T10:00:00.000Z',
      lastRefreshedAt: null,
      lastError: null,
      createdAt: '2026-11-26T10:00:00.000Z',
      updatedAt: '2026-11-26T10:00:00.000Z',
    },
  });

export type ConnectionView = z.infer<typeof connectionView>;

export const listConnectionsQuery = pageQuery.extend({
  externalUserId: z.string().min(1).max(255).optional().describe('Only this host user.'),
  role: connectionRole.optional(),
  status: connectionStatus.optional(),
});

export type ListConnectionsQuery = z.infer<typeof listConnectionsQuery>;

export const connectionParams = z.object({ id: z.uuid().describe('Connection id.') });

export const authorizeRequest = z
  .object({
    externalUserId: z
      .string()
      .min(1)
      .max(255)
      .describe('Your id for the user; connections are listed and checked by it.'),
    role: connectionRole,
    returnTo: z
      .string()
      .max(2000)
      .describe('Where the browser goes afterwards; must match RETURN_TO_ALLOWLIST.'),
    scopes: z
      .array(z.enum(patreonScopes))
      .max(20)
      .optional()
      .describe('Extra Patreon scopes on top of the role’s defaults.'),
  })
  .meta({
    id: 'AuthorizeRequest',
    example: {
      externalUserId: 'user_42',
      role: 'patron',
      returnTo: 'https://app.example.com/settings/patreon',
    },
  });

export const authorizeResponse = z
  .object({
    authorizeUrl: z.string().describe('Open in the user’s browser. Single use.'),
    expiresAt: z.iso.datetime(),
    scopes: z.array(z.string()).describe('Scopes that will be requested from Patreon.'),
  })
  .meta({ id: 'AuthorizeResponse' });

export const disconnectQuery = z.object({
  purge: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true')
    .describe('Also delete the data synced through this connection.'),
});

export const membershipView = z
  .object({
    memberId: z.string(),
    campaignId: z.string(),
    patronStatus: z.string().nullable(),
    lastChargeStatus: z.string().nullable(),
    lastChargeDate: z.iso.datetime().nullable(),
    nextChargeDate: z.iso.datetime().nullable(),
    currentlyEntitledAmountCents: z.number().int().nullable(),
    tierIds: z.array(z.string()).describe('Patreon’s `currently_entitled_tiers`.'),
    asOf: z.iso.datetime().nullable().describe('When Patreon last confirmed this membership.'),
  })
  .meta({ id: 'Membership' });

export const membershipsView = z.object({ data: z.array(membershipView) });
