import type { PostRecord } from './model.js';
import { pick, randomFor } from './prng.js';
import {
  OTHER_CAMPAIGN_ID,
  OTHER_CREATOR_ID,
  OTHER_TIER_IDS,
  OWN_CAMPAIGN_ID,
  OWN_CREATOR_ID,
  OWN_TIER_IDS,
} from './seed-ids.js';
import { DAY_MS, iso } from './time.js';

const POST_TITLES = [
  'Studio diary',
  'Sketchbook scan',
  'Process video',
  'Monthly Q&A answers',
  'Draft chapter',
  'Tools I use',
  'Patron poll results',
  'Work in progress',
  'Behind the scenes',
  'Wallpaper pack',
] as const;

export function postRecord(
  id: string,
  campaignId: string,
  userId: string,
  title: string,
  tierIds: string[],
  publishedMs: number,
): PostRecord {
  const isPublic = tierIds.length === 0;
  return {
    id,
    campaignId,
    userId,
    attributes: {
      app_id: null,
      app_status: null,
      content: `<p>${title}</p>`,
      embed_data: null,
      embed_url: null,
      is_paid: !isPublic,
      is_public: isPublic,
      published_at: iso(publishedMs),
      tiers: tierIds,
      title,
      url: `/posts/${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${id}`,
    },
  };
}

/** Weekly posts over the last half year: every third one public, the others paid. */
export function seedPosts(seed: number, anchorMs: number): PostRecord[] {
  const random = randomFor(seed, 0x9057);
  const out: PostRecord[] = [];
  for (let k = 0; k < 24; k++) {
    // Every third post is public; the rest are paid, for one or more tiers.
    const tiers = k % 3 === 0 ? [] : OWN_TIER_IDS.slice(k % 3 === 1 ? 0 : 1);
    const title = `${pick(random, POST_TITLES)} #${k + 1}`;
    out.push(
      postRecord(
        String(80_000_001 + k),
        OWN_CAMPAIGN_ID,
        OWN_CREATOR_ID,
        title,
        [...tiers],
        anchorMs - (24 - k) * 7 * DAY_MS,
      ),
    );
  }
  for (let k = 0; k < 4; k++) {
    const tiers = k % 2 === 0 ? [] : [...OTHER_TIER_IDS];
    out.push(
      postRecord(
        String(81_000_001 + k),
        OTHER_CAMPAIGN_ID,
        OTHER_CREATOR_ID,
        `Field notes #${k + 1}`,
        tiers,
        anchorMs - (4 - k) * 10 * DAY_MS,
      ),
    );
  }
  return out;
}
