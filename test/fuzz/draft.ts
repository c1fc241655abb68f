import fc from 'fast-check';
import { percentEncode } from './bad-inputs.js';
import type { Operation, Schema } from './operations.js';

/** The kinds of bad input, each switched on or off as a whole (see known-failures.ts). */
export const FAMILIES = ['classic', 'cursor', 'bounds', 'bytes', 'times'] as const;
export type Family = (typeof FAMILIES)[number];

export type FuzzRequest = {
  operationId: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
  /** Invalid by construction: anything but a 4xx answer is a bug. */
  mustFail: boolean;
  /** What was done to the baseline, for the counterexample. */
  labels: string[];
  /** The families of the mutations applied (`classic` for the original ones). */
  families: Family[];
};

/** A cursor a list really returned, with the query it was returned for (e.g. its `sort`). */
export type RealCursor = { cursor: string; query: Array<[string, string]> };

export type FuzzContext = {
  apiKey: string;
  bodyLimit: number;
  /** The value of a path parameter that names an existing row. */
  pathValue: (op: Operation, name: string) => string;
  /** A valid value for a required query parameter or body property. */
  baseline: (name: string, schema: Schema) => unknown;
  /** Every id in the database, so an "unknown" id never names a real row. */
  isKnownId: (value: string) => boolean;
  /** Methods the document declares on a path template. */
  methods: (path: string) => string[];
  /** `nextCursor`s of a list's first pages, to tamper with. */
  realCursors: (op: Operation) => RealCursor[];
  /** Whether a family of bad inputs is sent to an operation (see known-failures.ts). */
  enabled: (family: Family, op: Operation) => boolean;
};

export type Draft = {
  method: string;
  /** Path parameters, already percent-encoded. */
  path: Record<string, string>;
  /** Query pairs, each already `key=value` encoded. */
  query: Array<[string, string]>;
  headers: Record<string, string>;
  body?: { json: unknown } | { raw: string | Buffer };
  /** Defaults to JSON when there is a body; null sends none. */
  contentType?: string | null;
  labels: string[];
  families: Family[];
  /** Values no valid request carries, each with where it went (a later value there replaces it). */
  refusals: Array<{ where: Position; witness: unknown }>;
};

/** Where a value sits in a request: `query:limit`, `path:id`, `header:accept`, or the body. */
export type Position = `query:${string}` | `path:${string}` | `header:${string}` | 'body';

const valueAt = (draft: Draft, where: Position): unknown => {
  if (where === 'body') {
    return draft.body && 'json' in draft.body ? JSON.stringify(draft.body.json) : draft.body?.raw;
  }
  const [kind, name] = where.split(/:(.*)/s) as [string, string];
  if (kind === 'query') return JSON.stringify(draft.query.filter(([key]) => key === name));
  return kind === 'path' ? draft.path[name] : draft.headers[name];
};

/** Marks the value now at `where` as one the service must refuse. */
export function refuse(draft: Draft, where: Position) {
  draft.refusals.push({ where, witness: valueAt(draft, where) });
}

/** Whether a refused value is still in the request (not replaced by a later mutation). */
const stillRefused = (draft: Draft) =>
  draft.refusals.some(({ where, witness }) => valueAt(draft, where) === witness);

export type Mutation = (draft: Draft) => void;

export const short = (value: unknown) => {
  const text = Buffer.isBuffer(value)
    ? value.toString('latin1')
    : typeof value === 'string'
      ? value
      : (JSON.stringify(value) ?? String(value));
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…(${text.length})` : text);
};

export const mutation = <T>(
  arbitrary: fc.Arbitrary<T>,
  apply: (draft: Draft, value: T) => string,
  family: Family = 'classic',
) =>
  arbitrary.map(
    (value): Mutation =>
      (draft) => {
        const label = apply(draft, value);
        draft.labels.push(family === 'classic' ? label : `[${family}] ${label}`);
        if (!draft.families.includes(family)) draft.families.push(family);
      },
  );

export function setQuery(draft: Draft, name: string, value: string | string[] | undefined) {
  setRawQuery(
    draft,
    name,
    value === undefined ? undefined : [value].flat().map((one) => percentEncode(one)),
  );
}

/** Sets a query parameter to text that goes into the URL as it is (already encoded, or not). */
export function setRawQuery(draft: Draft, name: string, encoded: string | string[] | undefined) {
  draft.query = draft.query.filter(([key]) => key !== name);
  for (const one of encoded === undefined ? [] : [encoded].flat()) draft.query.push([name, one]);
}

export const bodyObject = (draft: Draft) =>
  draft.body && 'json' in draft.body && typeof draft.body.json === 'object' && draft.body.json
    ? (draft.body.json as Record<string, unknown>)
    : undefined;

export const emptyDraft = (op: Operation): Draft => ({
  method: op.method,
  path: {},
  query: [],
  headers: {},
  labels: [],
  families: [],
  refusals: [],
});

export function render(op: Operation, draft: Draft, mustFail: boolean): FuzzRequest {
  let url = op.path.replace(/\{(\w+)\}/g, (_, name: string) => draft.path[name] ?? '');
  if (draft.query.length > 0) url += `?${draft.query.map(([k, v]) => `${k}=${v}`).join('&')}`;
  const headers = { ...draft.headers };
  let payload: string | Buffer | undefined;
  if (draft.body) {
    payload = 'json' in draft.body ? JSON.stringify(draft.body.json) : draft.body.raw;
    const type = draft.contentType === undefined ? 'application/json' : draft.contentType;
    if (type !== null) headers['content-type'] = type;
  }
  const request: FuzzRequest = {
    operationId: op.operationId,
    method: draft.method,
    url,
    headers,
    payload,
    mustFail: mustFail || stillRefused(draft),
    labels: draft.labels,
    families: draft.families.length > 0 ? draft.families : ['classic'],
  };
  return Object.assign(request, {
    [fc.toStringMethod]: () => describeRequest(request),
  });
}

export const describeRequest = (request: FuzzRequest) =>
  `${request.method} ${short(request.url)} [${request.labels.join('; ')}]${request.mustFail ? ' (must fail)' : ''}`;
