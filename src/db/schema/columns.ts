import { sql } from 'drizzle-orm';
import { timestamp, uuid } from 'drizzle-orm/pg-core';

/** All times are `timestamptz`, surfaced to the code as `Date`. */
export const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const primaryUuid = () => uuid('id').primaryKey().default(sql`gen_random_uuid()`);

/** Row bookkeeping, separate from Patreon's own timestamps (`patreon_created_at` etc.). */
export const rowTimes = () => ({
  createdAt: timestamptz('created_at').notNull().defaultNow(),
  updatedAt: timestamptz('updated_at').notNull().defaultNow(),
});
