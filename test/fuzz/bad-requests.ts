import fc from 'fast-check';
import {
  anyJson,
  asHeaderValue,
  canReject,
  INVALID_JSON_TEXTS,
  invalidJson,
  invalidParameter,
  METHODS,
  nastyText,
  ODD_CONTENT_TYPES,
  pathParameters,
  percentEncode,
  queryParameters,
  RAW_PATH_SEGMENTS,
  UNSUPPORTED_CONTENT_TYPES,
  validJson,
  validParameter,
} from './bad-inputs.js';
import type { Operation, Schema } from './operations.js';

export type FuzzRequest = {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
  /** Invalid by construction: anything but a 4xx answer is a bug. */
  mustFail: boolean;
  /** What was done to the baseline, for the counterexample. */
  labels: string[];
};

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
};

type Draft = {
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
};

type Mutation = (draft: Draft) => void;

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Segments a URL parser resolves away (`.`, `..`, `%2e%2e`, `x/..`, nothing). */
const DOTS = /(^|\/)(\.|%2e){0,2}$/i;

/** Deliveries to the Patreon ingest route are signed; the fuzzer never holds the secret. */
export const signedByPatreon = (op: Operation) => op.path.startsWith('/webhooks/patreon/');

const mutation = <T>(arbitrary: fc.Arbitrary<T>, apply: (draft: Draft, value: T) => string) =>
  arbitrary.map(
    (value): Mutation =>
      (draft) =>
        draft.labels.push(apply(draft, value)),
  );

const short = (value: unknown) => {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…(${text.length})` : text);
};

function setQuery(draft: Draft, name: string, value: string | string[] | undefined) {
  draft.query = draft.query.filter(([key]) => key !== name);
  for (const one of value === undefined ? [] : [value].flat()) {
    draft.query.push([name, percentEncode(one)]);
  }
}

const bodyObject = (draft: Draft) =>
  draft.body && 'json' in draft.body && typeof draft.body.json === 'object' && draft.body.json
    ? (draft.body.json as Record<string, unknown>)
    : undefined;

/** Mutations after which the request cannot be valid, whatever else it carries. */
function invalidMutations(op: Operation, ctx: FuzzContext): fc.Arbitrary<Mutation>[] {
  const out: fc.Arbitrary<Mutation>[] = [];
  if (op.apiKey) {
    const key = ctx.apiKey;
    const wrong = fc.oneof(
      fc.constant(undefined),
      fc.constantFrom(
        'Bearer',
        'Bearer ',
        'Basic dXNlcjpwYXNz',
        `Bearer ${key.slice(0, -1)}`,
        `Bearer ${key}x`,
        `Bearer ${key} ${key}`,
        `Bearer${key}`,
        `Token ${key}`,
        key,
        `Bearer "${key}"`,
      ),
      nastyText.map((text) => asHeaderValue(`Bearer ${text}`)),
      nastyText.map(asHeaderValue),
    );
    out.push(
      mutation(wrong, (draft, value) => {
        if (value === undefined) delete draft.headers.authorization;
        else draft.headers.authorization = value;
        return `authorization ${short(value)}`;
      }),
    );
  }
  for (const p of pathParameters(op)) {
    const last = op.path.endsWith(`{${p.name}}`);
    const unknown = validParameter(p.schema).filter((v) => !ctx.isKnownId(v));
    const encoded = fc
      .oneof(
        invalidParameter(p.schema).map((v) => [v].flat().join(',')),
        unknown,
      )
      .filter((v) => !last || !DOTS.test(v));
    out.push(
      mutation(encoded, (draft, value) => {
        draft.path[p.name] = percentEncode(value);
        return `path ${p.name}=${short(value)}`;
      }),
      // Ending in an empty or dot segment would name the collection instead (`/v1/events/.`).
      mutation(
        fc.constantFrom(...RAW_PATH_SEGMENTS.filter((s) => !last || !DOTS.test(s))),
        (draft, value) => {
          draft.path[p.name] = value;
          return `raw path ${p.name}=${short(value)}`;
        },
      ),
    );
  }
  for (const p of queryParameters(op)) {
    out.push(
      mutation(invalidParameter(p.schema), (draft, value) => {
        setQuery(draft, p.name, value);
        return `query ${p.name}=${short(value)}`;
      }),
    );
    if (p.required) {
      out.push(
        mutation(fc.constant(p.name), (draft, name) => {
          setQuery(draft, name, undefined);
          return `query ${name} missing`;
        }),
      );
    }
  }
  if (op.body) out.push(...invalidBodies(op.body.required, op.body.schema));
  if (BODY_METHODS.has(op.method)) {
    out.push(
      mutation(
        fc.tuple(
          fc.constantFrom(...UNSUPPORTED_CONTENT_TYPES),
          fc.oneof(fc.constant('{}'), nastyText),
        ),
        (draft, [type, text]) => {
          draft.body = { raw: text || '{}' };
          draft.contentType = type;
          return `content-type ${type}`;
        },
      ),
      mutation(fc.integer({ min: 1, max: 64 * 1024 }), (draft, extra) => {
        draft.body = { raw: Buffer.alloc(ctx.bodyLimit + extra, 'a') };
        return `body of limit + ${extra} bytes`;
      }),
      mutation(fc.constantFrom(...INVALID_JSON_TEXTS), (draft, text) => {
        draft.body = { raw: text };
        draft.contentType = 'application/json';
        return `invalid JSON ${short(text)}`;
      }),
      mutation(fc.constantFrom('', ' ', '\n'), (draft, text) => {
        draft.body = { raw: text };
        draft.contentType = 'application/json';
        return `empty JSON body ${short(text)}`;
      }),
    );
  }
  const wrongMethods = METHODS.filter((m) => !ctx.methods(op.path).includes(m));
  if (wrongMethods.length > 0) {
    out.push(
      mutation(fc.constantFrom(...wrongMethods), (draft, method) => {
        draft.method = method;
        return `method ${method}`;
      }),
    );
  }
  return out;
}

function invalidBodies(required: boolean, schema: Schema): fc.Arbitrary<Mutation>[] {
  const out: fc.Arbitrary<Mutation>[] = [
    // An optional body may be JSON `null`: the service takes it as no body.
    mutation(
      fc.constantFrom<unknown>(...(required ? [null] : []), [], [{}], 'text', 0, true),
      (draft, value) => {
        draft.body = { json: value };
        return `body ${short(value)}`;
      },
    ),
    mutation(nastyText, (draft, text) => {
      draft.body = { raw: text };
      draft.contentType = 'text/plain';
      return `text/plain body ${short(text)}`;
    }),
  ];
  if (required) {
    out.push(
      mutation(fc.constant(null), (draft) => {
        draft.body = undefined;
        draft.contentType = null;
        return 'no body';
      }),
    );
  }
  const required_ = schema.required ?? [];
  if (required_.length > 0) {
    out.push(
      mutation(fc.constantFrom(...required_), (draft, name) => {
        const body = bodyObject(draft) ?? {};
        delete body[name];
        draft.body = { json: body };
        return `body.${name} missing`;
      }),
    );
  }
  const props = Object.entries(schema.properties ?? {}).filter(([, s]) => canReject(s));
  const [first] = props;
  if (first) {
    // Deep nesting is valid JSON but no field takes it: walkers of the body must not recurse.
    out.push(
      mutation(fc.integer({ min: 1_000, max: 50_000 }), (draft, depth) => {
        draft.body = { raw: `{"${first[0]}":${'['.repeat(depth)}${']'.repeat(depth)}}` };
        draft.contentType = 'application/json';
        return `body.${first[0]} nested ${depth} deep`;
      }),
    );
  }
  if (props.length > 0) {
    const bad = fc.oneof(...props.map(([name, s]) => fc.tuple(fc.constant(name), invalidJson(s))));
    out.push(
      mutation(bad, (draft, [name, value]) => {
        draft.body = { json: { ...bodyObject(draft), [name]: value } };
        return `body.${name}=${short(value)}`;
      }),
    );
  }
  return out;
}

const NOISE_HEADERS = [
  'x-request-id',
  'user-agent',
  'accept-language',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'forwarded',
  'cookie',
  'referer',
  'origin',
  'if-none-match',
  'range',
  'x-http-method-override',
  'x-patreon-signature',
  'x-patreon-event',
];
const ACCEPTS = [
  'text/csv',
  'application/xml',
  '*/*',
  'text/html',
  'application/json;q=0',
  'text/csv;q=0.1, application/json',
  '',
];

/** Mutations a valid request may also carry: the request may still succeed. */
function noiseMutations(op: Operation): fc.Arbitrary<Mutation>[] {
  const names = new Set(op.parameters.map((p) => p.name));
  const extraName = fc
    .oneof(
      fc.constantFrom('__proto__', 'constructor', 'hasOwnProperty', 'limit[]', 'a.b', '', ' '),
      fc.stringMatching(/^[a-z][a-zA-Z]{0,10}$/),
    )
    .filter((name) => !names.has(name));
  const out: fc.Arbitrary<Mutation>[] = [
    mutation(fc.tuple(fc.constantFrom(...NOISE_HEADERS), nastyText), (draft, [name, text]) => {
      draft.headers[name] = asHeaderValue(text);
      return `header ${name}: ${short(text)}`;
    }),
    mutation(
      fc.oneof(fc.constantFrom(...ACCEPTS), nastyText.map(asHeaderValue)),
      (draft, value) => {
        draft.headers.accept = value;
        return `accept ${short(value)}`;
      },
    ),
    mutation(fc.tuple(extraName, nastyText), (draft, [name, text]) => {
      draft.query.push([percentEncode(name), percentEncode(text)]);
      return `extra query ${short(name)}=${short(text)}`;
    }),
  ];
  for (const p of queryParameters(op)) {
    out.push(
      mutation(validParameter(p.schema), (draft, value) => {
        setQuery(draft, p.name, value);
        return `query ${p.name}=${short(value)} (valid)`;
      }),
    );
  }
  if (op.body) {
    const props = Object.entries(op.body.schema.properties ?? {});
    const extra = extraName.filter(
      (name) => !props.some(([p]) => p === name) && name !== '__proto__',
    );
    out.push(
      mutation(fc.tuple(extra, anyJson), (draft, [name, value]) => {
        const body = bodyObject(draft);
        if (body) body[name] = value;
        return `extra body.${name}=${short(value)}`;
      }),
    );
    if (props.length > 0) {
      const edge = fc.oneof(...props.map(([name, s]) => fc.tuple(fc.constant(name), validJson(s))));
      out.push(
        mutation(edge, (draft, [name, value]) => {
          const body = bodyObject(draft);
          if (body) body[name] = value;
          return `body.${name}=${short(value)} (valid)`;
        }),
      );
    }
  }
  if (op.method === 'GET') {
    out.push(
      mutation(
        fc.constantFrom(...UNSUPPORTED_CONTENT_TYPES, ...ODD_CONTENT_TYPES),
        (draft, type) => {
          draft.headers['content-type'] = type;
          return `content-type ${type} without a body`;
        },
      ),
    );
  } else {
    out.push(
      mutation(fc.constantFrom(...ODD_CONTENT_TYPES), (draft, type) => {
        draft.contentType = type;
        draft.body ??= { json: {} };
        return `content-type ${type}`;
      }),
    );
  }
  if (signedByPatreon(op)) {
    out.push(
      mutation(
        fc.oneof(
          anyJson.map((value) => JSON.stringify(value) ?? ''),
          nastyText,
          fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)),
        ),
        (draft, raw) => {
          draft.body = { raw };
          return `delivery body ${short(Buffer.isBuffer(raw) ? raw.toString('hex') : raw)}`;
        },
      ),
      mutation(fc.stringMatching(/^[0-9a-f]{32}$/), (draft, signature) => {
        draft.headers['x-patreon-signature'] = signature;
        return `signature ${signature}`;
      }),
    );
  }
  return out;
}

function baselineDraft(op: Operation, ctx: FuzzContext): Draft {
  const draft: Draft = { method: op.method, path: {}, query: [], headers: {}, labels: [] };
  for (const p of pathParameters(op)) draft.path[p.name] = percentEncode(ctx.pathValue(op, p.name));
  for (const p of queryParameters(op)) {
    if (p.required) setQuery(draft, p.name, String(ctx.baseline(p.name, p.schema)));
  }
  if (op.apiKey) draft.headers.authorization = `Bearer ${ctx.apiKey}`;
  if (signedByPatreon(op)) {
    draft.headers['x-patreon-event'] = 'members:update';
    draft.body = { raw: '{"data":{"type":"member","id":"1"}}' };
  }
  if (op.body) {
    const { schema } = op.body;
    draft.body = {
      json: Object.fromEntries(
        (schema.required ?? []).map((name) => [
          name,
          ctx.baseline(name, schema.properties?.[name] ?? {}),
        ]),
      ),
    };
  }
  return draft;
}

function render(op: Operation, draft: Draft, mustFail: boolean): FuzzRequest {
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
    method: draft.method,
    url,
    headers,
    payload,
    mustFail,
    labels: draft.labels,
  };
  return Object.assign(request, {
    [fc.toStringMethod]: () =>
      `${request.method} ${short(request.url)} [${request.labels.join('; ')}]${mustFail ? ' (must fail)' : ''}`,
  });
}

/**
 * Bad requests for one operation: a valid baseline (real ids, required fields) with up to three
 * harmless-or-not mutations, then (always for writes, mostly for reads) one that makes it invalid.
 * Writes are never sent without an invalid mutation, so none of them may change the database.
 */
export function badRequests(op: Operation, ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const invalid = fc.oneof(...invalidMutations(op, ctx));
  const alwaysInvalid = signedByPatreon(op);
  const mayBeValid = op.method === 'GET' && !alwaysInvalid;
  return fc
    .record({
      noise: fc.array(fc.oneof(...noiseMutations(op)), { maxLength: 3 }),
      invalid: mayBeValid ? fc.option(invalid, { freq: 5 }) : invalid,
    })
    .map(({ noise, invalid }) => {
      const draft = baselineDraft(op, ctx);
      for (const apply of noise) apply(draft);
      invalid?.(draft);
      return render(op, draft, alwaysInvalid || invalid !== null);
    });
}
