import { z } from 'zod';

/**
 * Patreon's v2 resource types (docs/patreon-api.md §4). Every attribute is optional and nullable:
 * Patreon omits what was not asked for through `fields[type]` and sends `null` where its docs
 * promise a number (docs/patreon-api.md, last table). Unknown attributes are dropped, not rejected.
 */

/**
 * What our columns can hold, checked as a resource is decoded so a value PostgreSQL would refuse
 * fails the delivery (or page) that carries it, with its path, instead of failing in the database:
 * text without NUL or lone surrogates, integers within int4, dates from year 1 to 9999.
 */
const storable = (value: string) =>
  !value.includes('\u0000') && (value as string & { isWellFormed(): boolean }).isWellFormed();
const INT4_MAX = 2_147_483_647;
const fitsInt4 = (value: unknown): value is number =>
  Number.isSafeInteger(value) && Math.abs(value as number) <= INT4_MAX;
const FIRST_DATE = Date.parse('0001-01-01T00:00:00Z');
const LAST_DATE = Date.parse('9999-12-31T23:59:59.999Z');
const storableDate = (ms: number) => ms >= FIRST_DATE && ms <= LAST_DATE;

const text = z.string().refine(storable, 'must not hold NUL or a lone surrogate');
const str = text.nullish();
const int = z.number().int().min(-INT4_MAX).max(INT4_MAX).nullish();
const bool = z.boolean().nullish();
const obj = z.record(z.string(), z.unknown()).nullish();
const strings = z.array(text).nullish();
/** ISO 8601 with any offset and precision (`+00:00`, `.000+00:00`, `.403645+00:00`). */
const requiredDate = z
  .string()
  .refine(
    (value) => storableDate(Date.parse(value)),
    'must be an ISO 8601 date-time, years 1 to 9999',
  )
  .transform((value) => new Date(value));
const date = requiredDate.nullish();

/** What a fast check answers for a value its schema would reject. */
export const INVALID = Symbol('invalid');
type FastCheck = (value: unknown) => unknown;

const nullish =
  (check: FastCheck): FastCheck =>
  (value) =>
    value === undefined || value === null ? value : check(value);
const toDate = (value: unknown) => {
  if (typeof value !== 'string') return INVALID;
  const ms = Date.parse(value);
  return storableDate(ms) ? new Date(ms) : INVALID;
};

/**
 * The shared schemas above, checked by hand: the same output for every value they accept (an
 * attribute left out is `undefined`), and INVALID for anything else, which the decoder then hands
 * to zod for its verdict and message. A page of members carries tens of thousands of attributes;
 * zod builds a new object for each resource it checks, and these do not.
 */
export const fastChecks = new Map<z.ZodType, FastCheck>([
  [str, nullish((v) => (typeof v === 'string' && storable(v) ? v : INVALID))],
  [int, nullish((v) => (fitsInt4(v) ? v : INVALID))],
  [bool, nullish((v) => (typeof v === 'boolean' ? v : INVALID))],
  [obj, nullish((v) => (typeof v === 'object' && !Array.isArray(v) ? v : INVALID))],
  [
    strings,
    nullish((v) =>
      Array.isArray(v) && v.every((s) => typeof s === 'string' && storable(s)) ? v : INVALID,
    ),
  ],
  [date, nullish(toDate)],
  [requiredDate, toDate],
]);

export const attributeShapes = {
  user: {
    about: str,
    can_see_nsfw: bool,
    created: date,
    email: str,
    first_name: str,
    last_name: str,
    full_name: str,
    hide_pledges: bool,
    image_url: str,
    thumb_url: str,
    url: str,
    vanity: str,
    is_email_verified: bool,
    is_creator: bool,
    like_count: int,
    social_connections: obj,
  },
  campaign: {
    created_at: date,
    creation_name: str,
    currency: str,
    name: str,
    discord_server_id: str,
    image_small_url: str,
    image_url: str,
    is_charged_immediately: bool,
    is_monthly: bool,
    is_nsfw: bool,
    one_liner: str,
    patron_count: int,
    pay_per_name: str,
    pledge_url: str,
    published_at: date,
    summary: str,
    url: str,
    vanity: str,
  },
  tier: {
    amount_cents: int,
    created_at: date,
    description: str,
    discord_role_ids: strings,
    edited_at: date,
    image_url: str,
    patron_count: int,
    post_count: int,
    published: bool,
    published_at: date,
    remaining: int,
    requires_shipping: bool,
    title: str,
    unpublished_at: date,
    url: str,
    user_limit: int,
  },
  benefit: {
    app_external_id: str,
    app_meta: obj,
    benefit_type: str,
    created_at: date,
    description: str,
    is_deleted: bool,
    is_ended: bool,
    is_published: bool,
    next_deliverable_due_date: date,
    rule_type: str,
    tiers_count: int,
    title: str,
  },
  goal: {
    amount_cents: int,
    completed_percentage: int,
    created_at: date,
    description: str,
    reached_at: date,
    title: str,
  },
  member: {
    campaign_lifetime_support_cents: int,
    currently_entitled_amount_cents: int,
    email: str,
    full_name: str,
    is_follower: bool,
    is_free_trial: bool,
    is_gifted: bool,
    last_charge_date: date,
    last_charge_status: str,
    lifetime_support_cents: int,
    next_charge_date: date,
    note: str,
    patron_status: str,
    pledge_cadence: int,
    pledge_relationship_start: date,
    will_pay_amount_cents: int,
  },
  address: {
    addressee: str,
    city: str,
    country: str,
    created_at: date,
    line_1: str,
    line_2: str,
    phone_number: str,
    postal_code: str,
    state: str,
  },
  'pledge-event': {
    amount_cents: int,
    currency_code: str,
    // Without a date a pledge event says nothing: the one attribute we cannot do without.
    date: requiredDate,
    payment_status: str,
    pledge_payment_status: str,
    tier_id: str,
    tier_title: str,
    type: str,
  },
  post: {
    app_id: int,
    app_status: str,
    content: str,
    embed_data: obj,
    embed_url: str,
    is_paid: bool,
    is_public: bool,
    published_at: date,
    tiers: z.array(z.union([z.string(), z.number().transform(String)])).nullish(),
    title: str,
    url: str,
  },
  webhook: {
    last_attempted_at: date,
    num_consecutive_times_failed: int,
    paused: z
      .union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')])
      .nullish(),
    secret: str,
    triggers: strings,
    uri: str,
  },
} as const;

export type ResourceType = keyof typeof attributeShapes;

type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;

type Attributes<T extends ResourceType> = {
  [K in keyof (typeof attributeShapes)[T] as CamelCase<K & string>]?: z.output<
    (typeof attributeShapes)[T][K]
  >;
};

type Base<T extends ResourceType> = { id: string } & Attributes<T>;

/** Relationships are set only when Patreon sent them (i.e. when they were `include`d). */
export type User = Base<'user'> & { campaign?: Campaign | null; memberships?: Member[] };
export type Campaign = Base<'campaign'> & {
  creator?: User | null;
  tiers?: Tier[];
  benefits?: Benefit[];
  goals?: Goal[];
};
export type Tier = Base<'tier'> & { campaign?: Campaign | null; benefits?: Benefit[] };
export type Benefit = Base<'benefit'> & { campaign?: Campaign | null; tiers?: Tier[] };
export type Goal = Base<'goal'> & { campaign?: Campaign | null };
export type Address = Base<'address'>;
export type PledgeEvent = Base<'pledge-event'> & {
  campaign?: Campaign | null;
  patron?: User | null;
  tier?: Tier | null;
};
export type Member = Base<'member'> & {
  user?: User | null;
  campaign?: Campaign | null;
  address?: Address | null;
  currentlyEntitledTiers?: Tier[];
  pledgeHistory?: PledgeEvent[];
};
export type Post = Base<'post'> & { user?: User | null; campaign?: Campaign | null };
export type Webhook = Base<'webhook'> & { campaign?: Campaign | null };

export type ResourceOf = {
  user: User;
  campaign: Campaign;
  tier: Tier;
  benefit: Benefit;
  goal: Goal;
  member: Member;
  address: Address;
  'pledge-event': PledgeEvent;
  post: Post;
  webhook: Webhook;
};

/** Relationship names (Patreon's) and their decoded property names. */
export const relationshipNames: Record<string, string> = {
  currently_entitled_tiers: 'currentlyEntitledTiers',
  pledge_history: 'pledgeHistory',
};

export const camelCase = (name: string): string =>
  relationshipNames[name] ?? name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
