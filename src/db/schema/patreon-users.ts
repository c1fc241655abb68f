import { boolean, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { rowTimes, timestamptz } from './columns.js';

/** A Patreon user (creator or patron), keyed by Patreon's own string id. */
export const patreonUsers = pgTable('patreon_users', {
  id: text('id').primaryKey(),
  /** Present only when a granted scope allowed it; never used to link accounts unless verified. */
  email: text('email'),
  isEmailVerified: boolean('is_email_verified'),
  fullName: text('full_name'),
  firstName: text('first_name'),
  lastName: text('last_name'),
  vanity: text('vanity'),
  url: text('url'),
  imageUrl: text('image_url'),
  thumbUrl: text('thumb_url'),
  isCreator: boolean('is_creator'),
  socialConnections: jsonb('social_connections').$type<Record<string, unknown>>(),
  patreonCreatedAt: timestamptz('patreon_created_at'),
  ...rowTimes(),
});
