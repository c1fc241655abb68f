import { createHmac, randomBytes } from 'node:crypto';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): HMAC-SHA256 over
 * `${id}.${timestamp}.${body}`, keyed by the bytes after `whsec_`, sent as `v1,<base64>`. Several
 * secrets (a rotation's overlap) give several space-separated signatures; a receiver accepts the
 * message when any of them verifies with its secret.
 */
const PREFIX = 'whsec_';

/** A new secret: `whsec_` and the base64 of 32 random bytes (the spec asks for 24 to 64). */
export function generateSecret(): string {
  return `${PREFIX}${randomBytes(32).toString('base64')}`;
}

function keyOf(secret: string): Buffer {
  return Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');
}

export function sign(secret: string, id: string, timestampSeconds: number, body: string): string {
  const digest = createHmac('sha256', keyOf(secret))
    .update(`${id}.${timestampSeconds}.${body}`)
    .digest('base64');
  return `v1,${digest}`;
}

/** The `webhook-*` headers of one attempt, signed with every given secret. */
export function signedHeaders(input: {
  id: string;
  timestampSeconds: number;
  body: string;
  secrets: readonly string[];
}): Record<string, string> {
  return {
    'webhook-id': input.id,
    'webhook-timestamp': String(input.timestampSeconds),
    'webhook-signature': input.secrets
      .map((secret) => sign(secret, input.id, input.timestampSeconds, input.body))
      .join(' '),
  };
}
