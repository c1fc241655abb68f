import { boolean, index, integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { campaigns, syncTimes } from './campaigns.js';
import { timestamptz } from './columns.js';

export const posts = pgTable(
  'posts',
  {
    id: text('id').primaryKey(),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    userId: text('user_id'),
    title: text('title'),
    /** HTML, as Patreon returns it. */
    content: text('content'),
    url: text('url'),
    embedUrl: text('embed_url'),
    embedData: jsonb('embed_data').$type<Record<string, unknown>>(),
    isPaid: boolean('is_paid'),
    isPublic: boolean('is_public'),
    /** Tier ids allowed to see the post. */
    tierIds: text('tier_ids').array(),
    appId: integer('app_id'),
    appStatus: text('app_status'),
    publishedAt: timestamptz('published_at'),
    ...syncTimes(),
  },
  (t) => [index('posts_campaign_id_published_at_idx').on(t.campaignId, t.publishedAt, t.id)],
);
