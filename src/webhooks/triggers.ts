/** Patreon's v2 webhook triggers (docs/patreon-api.md §9.1); we register for all of them. */
export const MEMBER_TRIGGERS = [
  'members:create',
  'members:update',
  'members:delete',
  'members:pledge:create',
  'members:pledge:update',
  'members:pledge:delete',
] as const;
export const POST_TRIGGERS = ['posts:publish', 'posts:update', 'posts:delete'] as const;
export const TRIGGERS = [...MEMBER_TRIGGERS, ...POST_TRIGGERS] as const;

export type Trigger = (typeof TRIGGERS)[number];
export type MemberTrigger = (typeof MEMBER_TRIGGERS)[number];

export const isTrigger = (value: unknown): value is Trigger =>
  typeof value === 'string' && (TRIGGERS as readonly string[]).includes(value);

export const isMemberTrigger = (value: string): value is MemberTrigger =>
  (MEMBER_TRIGGERS as readonly string[]).includes(value);
