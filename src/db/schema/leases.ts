import { pgTable, text } from 'drizzle-orm/pg-core';
import { timestamptz } from './columns.js';

/**
 * Short leases that let one instance at a time do a piece of work that spans Patreon calls (and
 * so cannot hold a transaction or an advisory lock on the embedded database's single connection).
 */
export const leases = pgTable('leases', {
  name: text('name').primaryKey(),
  holder: text('holder').notNull(),
  expiresAt: timestamptz('expires_at').notNull(),
});
