import type {
  ChargeStatus,
  PatronStatus,
  PledgeEventRecord,
  PledgeEventType,
  TierRecord,
} from './model.js';
import type { Random } from './prng.js';
import { pick } from './prng.js';
import { iso } from './time.js';

/** docs/patreon-api.md §7: pledge events are in the patron's payment currency. */
const CURRENCIES = [
  { code: 'USD', rate: 1 },
  { code: 'EUR', rate: 0.92 },
  { code: 'GBP', rate: 0.79 },
  { code: 'CAD', rate: 1.36 },
  { code: 'AUD', rate: 1.52 },
] as const;

const PAYMENT_STATUS_OF: Record<
  ChargeStatus,
  PledgeEventRecord['attributes']['pledge_payment_status']
> = {
  Paid: 'valid',
  Declined: 'declined',
  Deleted: 'disabled',
  Pending: 'pending',
  Refunded: 'valid',
  Fraud: 'fraud',
  'Refunded by Patreon': 'valid',
  Other: 'valid',
  'Partially Refunded': 'valid',
  'Free Trial': 'valid',
};

export function pledgeEvent(
  id: number,
  type: PledgeEventType,
  tier: TierRecord | undefined,
  amountUsdCents: number,
  currency: { code: string; rate: number },
  dateMs: number,
  status: ChargeStatus,
): PledgeEventRecord {
  return {
    id: `${type}:${id}`,
    tierId: tier?.id ?? null,
    attributes: {
      amount_cents: Math.round(amountUsdCents * currency.rate),
      currency_code: currency.code,
      date: iso(dateMs),
      pledge_payment_status: PAYMENT_STATUS_OF[status],
      payment_status: status,
      tier_id: tier?.id ?? null,
      tier_title: tier?.attributes.title ?? null,
      type,
    },
  };
}

export interface HistoryInput {
  random: Random;
  eventBase: number;
  member: {
    status: PatronStatus;
    charge: ChargeStatus | null;
    cadence: number | null;
    annualDowngrade?: boolean;
  };
  /** The campaign's published tiers, cheapest first. */
  ladder: readonly string[];
  deletedTierId: string | null;
  tier: TierRecord;
  tiers: ReadonlyMap<string, TierRecord>;
  startMs: number;
  lastChargeMs: number | null;
  endMs: number;
}

/** A generated member's pledge history: starts, upgrades/downgrades, the latest charge and, for former patrons, the delete. */
export function seededHistory(input: HistoryInput): PledgeEventRecord[] {
  const {
    random,
    eventBase,
    member: arch,
    ladder: ids,
    tier,
    tiers,
    startMs,
    lastChargeMs,
    endMs,
  } = input;
  if (arch.status === null) return [];
  const currency = pick(random, CURRENCIES);
  const position = ids.indexOf(tier.id);
  const variant = Math.floor(random() * 4);
  // Variants: 0 steady, 1 upgraded from the tier below, 2 downgraded from the tier above, 3 started on the deleted tier.
  let firstTierId = tier.id;
  if (variant === 1 && position > 0) firstTierId = ids[position - 1] as string;
  if (variant === 2 && position < ids.length - 1) firstTierId = ids[position + 1] as string;
  if (variant === 3 && input.deletedTierId) firstTierId = input.deletedTierId;
  if (arch.annualDowngrade && position < ids.length - 1) firstTierId = ids[position + 1] as string;
  const firstTier = tiers.get(firstTierId) ?? tier;
  const paidStatus: ChargeStatus = arch.charge === 'Free Trial' ? 'Free Trial' : 'Paid';
  const events = [
    pledgeEvent(
      eventBase,
      'pledge_start',
      firstTier,
      firstTier.attributes.amount_cents,
      currency,
      startMs,
      paidStatus,
    ),
  ];
  if (firstTier.id !== tier.id) {
    const type =
      firstTier.attributes.amount_cents < tier.attributes.amount_cents
        ? 'pledge_upgrade'
        : 'pledge_downgrade';
    const changedMs = startMs + Math.floor((endMs - startMs) / 2);
    events.push(
      pledgeEvent(
        eventBase + 1,
        type,
        tier,
        tier.attributes.amount_cents,
        currency,
        changedMs,
        'Paid',
      ),
    );
  }
  if (lastChargeMs !== null && arch.charge !== null) {
    events.push(
      pledgeEvent(
        eventBase + 2,
        'subscription',
        tier,
        tier.attributes.amount_cents * (arch.cadence ?? 1),
        currency,
        lastChargeMs,
        arch.charge,
      ),
    );
  }
  if (arch.status === 'former_patron') {
    events.push(pledgeEvent(eventBase + 3, 'pledge_delete', tier, 0, currency, endMs, 'Deleted'));
  }
  return events;
}
