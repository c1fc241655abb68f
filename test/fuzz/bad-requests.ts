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
import {
  bodyObject,
  type Draft,
  emptyDraft,
  type FuzzContext,
  type FuzzRequest,
  type Mutation,
  mutation,
  render,
  setQuery,
  short,
} from './draft.js';
import { hostileInvalid, hostileNoise } from './hostile-mutations.js';
import type { Operation, Schema } from './operations.js';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Segments a URL parser resolves away (`.`, `..`, `%2e%2e`, `x/..`, nothing). */
const DOTS = /(^|\/)(\.|%2e){0,2}$/i;

/** Deliveries to the Patreon ingest route are signed; the fuzzer never holds the secret. */
export const signedByPatreon = (op: Operation) => op.path.startsWith('/webhooks/patreon/');

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

/** A valid request for the operation: real ids, the required query and body fields, the key. */
export function baselineDraft(op: Operation, ctx: FuzzContext): Draft {
  const draft = emptyDraft(op);
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

/** Operations that only read, whatever their method: sent valid too. */
const READ_ONLY_POSTS = new Set(['checkEntitlement']);
export const readsOnly = (op: Operation) =>
  (op.method === 'GET' || READ_ONLY_POSTS.has(op.operationId)) && !signedByPatreon(op);

const oneOf = (arbitraries: fc.Arbitrary<Mutation>[]) =>
  arbitraries.length > 0 ? fc.oneof(...arbitraries) : undefined;

/**
 * Bad requests for one operation: a valid baseline (real ids, required fields) with up to three
 * harmless-or-not mutations, then (always for writes, mostly for reads) one that makes it invalid.
 * Writes are never sent without an invalid mutation, so none of them may change the database.
 * Reads also get hostile values alone (forged cursors, bounds, bytes, times), so that those reach
 * the service's checks and its queries instead of being refused for something else first.
 */
export function badRequests(op: Operation, ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const classic = ctx.enabled('classic', op);
  const invalidAll = [...(classic ? invalidMutations(op, ctx) : []), ...hostileInvalid(op, ctx)];
  const noiseAll = [...(classic ? noiseMutations(op) : []), ...hostileNoise(op, ctx)];
  const hostile = oneOf(hostileNoise(op, ctx));
  const invalid = oneOf(invalidAll) ?? fc.constant<Mutation>(() => {});
  const noise = fc.array(oneOf(noiseAll) ?? fc.constant<Mutation>(() => {}), { maxLength: 3 });
  const alwaysInvalid = signedByPatreon(op);
  const draw = (noise: Mutation[], last: Mutation | null, mustFail: boolean) => {
    const draft = baselineDraft(op, ctx);
    for (const apply of noise) apply(draft);
    last?.(draft);
    return render(op, draft, alwaysInvalid || mustFail);
  };
  const withInvalid = fc
    .record({ noise, invalid: readsOnly(op) ? fc.option(invalid, { freq: 5 }) : invalid })
    .map(({ noise, invalid }) => draw(noise, invalid, invalid !== null && invalidAll.length > 0));
  if (!readsOnly(op) || !hostile) return withInvalid;
  const hostileAlone = fc
    .record({ noise: fc.array(hostile, { maxLength: 1 }), last: hostile })
    .map(({ noise, last }) => draw(noise, last, false));
  return fc.oneof(withInvalid, hostileAlone);
}

/**
 * Writes with one hostile value in an otherwise valid body or query: they may succeed (and write),
 * so they are sent after the database check, one at a time. Deletes and bodiless writes are left
 * out: their hostile values are in the path, which `badRequests` already sends.
 */
export const hostileWriteOperations = (op: Operation) =>
  !readsOnly(op) &&
  !signedByPatreon(op) &&
  op.method !== 'DELETE' &&
  Object.keys(op.body?.schema.properties ?? {}).length > 0;

export function hostileWrites(
  op: Operation,
  ctx: FuzzContext,
): fc.Arbitrary<FuzzRequest> | undefined {
  const hostile = oneOf(hostileNoise(op, ctx, { bodyAndQueryOnly: true }));
  if (!hostile || !hostileWriteOperations(op)) return undefined;
  return hostile.map((apply) => {
    const draft = baselineDraft(op, ctx);
    apply(draft);
    return render(op, draft, false);
  });
}
