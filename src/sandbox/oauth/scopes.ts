/** docs/patreon-api.md §1.8: the v2 scopes and what the consent page says about each. */
export const SCOPE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  identity: 'See your Patreon profile',
  'identity[email]': 'See your email address',
  'identity.memberships': 'See all the creators you support',
  campaigns: 'See basic information about your campaign',
  'w:campaigns.webhook': 'Manage webhooks for your campaign',
  'campaigns.members': 'See the members of your campaign',
  'campaigns.members[email]': "See your members' email addresses",
  'campaigns.members.address': "See your members' mailing addresses",
  'campaigns.posts': 'See the posts of your campaign',
};

export const ALL_SCOPES: readonly string[] = Object.keys(SCOPE_DESCRIPTIONS);

/** docs/patreon-api.md §1.8: v1 scopes map onto v2 ones. */
const V1_SCOPES: Readonly<Record<string, readonly string[]>> = {
  users: ['identity', 'identity[email]'],
  pledges: ['campaigns.members', 'campaigns.members[email]', 'campaigns.members.address'],
  'pledges-to-me': ['identity.memberships'],
  'my-campaign': ['campaigns'],
};

/** docs/patreon-api.md §1.2: the v1 default when no scope is asked for. */
const DEFAULT_SCOPE = 'users pledges-to-me my-campaign';

/** Returns the granted v2 scopes, or the first unknown scope name. */
export function parseScopes(raw: string | undefined): { scopes: string[] } | { unknown: string } {
  const requested = (raw?.trim() ? raw : DEFAULT_SCOPE).split(/\s+/).filter(Boolean);
  const out = new Set<string>();
  for (const name of requested) {
    const mapped = V1_SCOPES[name] ?? (name in SCOPE_DESCRIPTIONS ? [name] : undefined);
    if (!mapped) return { unknown: name };
    for (const scope of mapped) out.add(scope);
  }
  return { scopes: [...out] };
}
