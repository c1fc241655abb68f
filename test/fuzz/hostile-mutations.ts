import fc from 'fast-check';
import { asHeaderValue, pathParameters, percentEncode, queryParameters } from './bad-inputs.js';
import {
  bodyObject,
  type Draft,
  type Family,
  type FuzzContext,
  type Mutation,
  mutation,
  refuse,
  setQuery,
  setRawQuery,
  short,
} from './draft.js';
import { cursorMutation } from './forged-cursors.js';
import {
  BAD_BYTES,
  BAD_PERCENT_BYTES,
  BOUND_NUMBER_LITERALS,
  BOUND_NUMBER_TEXTS,
  edgeTime,
} from './hostile-values.js';
import type { Operation, Parameter, Schema } from './operations.js';
import { acceptsJson, acceptsParameter } from './operations.js';

/** Segments a URL parser resolves away (`.`, `..`, `%2e%2e`, `x/..`, nothing). */
const DOTS = /(^|\/)(\.|%2e){0,2}$/i;

const isTime = (schema: Schema) => schema.pattern?.includes('T(?:') === true;
const decoded = (encoded: string) => {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return undefined;
  }
};

/** Hostile values that make any request invalid: path ids no row has, a key that is not one. */
export function hostileInvalid(op: Operation, ctx: FuzzContext): fc.Arbitrary<Mutation>[] {
  const out: fc.Arbitrary<Mutation>[] = [];
  const on = (family: Family) => ctx.enabled(family, op);
  for (const p of pathParameters(op)) {
    const last = op.path.endsWith(`{${p.name}}`);
    const unknown = (encoded: string) => {
      const value = decoded(encoded);
      return !(last && DOTS.test(encoded)) && (value === undefined || !ctx.isKnownId(value));
    };
    if (on('bounds')) {
      out.push(
        mutation(
          fc.constantFrom(...BOUND_NUMBER_TEXTS.map(percentEncode)).filter(unknown),
          (draft, value) => {
            draft.path[p.name] = value;
            return `path ${p.name}=${short(value)}`;
          },
          'bounds',
        ),
      );
    }
    if (on('bytes')) {
      const real = percentEncode(ctx.pathValue(op, p.name));
      const bytes = fc
        .tuple(fc.constantFrom(...BAD_PERCENT_BYTES), fc.constantFrom('alone', 'after', 'before'))
        .map(([bad, where]) =>
          where === 'alone' ? bad : where === 'after' ? `${real}${bad}` : `${bad}${real}`,
        )
        .filter(unknown);
      out.push(
        mutation(
          bytes,
          (draft, value) => {
            draft.path[p.name] = value;
            return `raw path ${p.name}=${short(value)}`;
          },
          'bytes',
        ),
      );
    }
  }
  if (op.apiKey && on('bytes')) {
    out.push(
      mutation(
        // NUL cannot reach a header (Node's parser refuses it; see raw-requests.test.ts).
        fc.constantFrom(...BAD_BYTES.filter((bytes) => !bytes.includes(0))),
        (draft, bytes) => {
          draft.headers.authorization = asHeaderValue(
            `Bearer ${ctx.apiKey}${bytes.toString('latin1')}`,
          );
          return `authorization with bytes ${short(bytes.toString('hex'))}`;
        },
        'bytes',
      ),
    );
  }
  return out;
}

/**
 * Hostile values a valid request may carry (so the answer may be a 2xx): forged and tampered
 * cursors, integers at their bounds, invalid UTF-8 and NUL, times Postgres cannot hold. A
 * mutation whose value the document refuses marks the draft invalid, so a 2xx is then a bug.
 */
export function hostileNoise(
  op: Operation,
  ctx: FuzzContext,
  options: { bodyAndQueryOnly?: boolean } = {},
): fc.Arbitrary<Mutation>[] {
  const out: fc.Arbitrary<Mutation>[] = [];
  const on = (family: Family) => ctx.enabled(family, op);
  for (const p of queryParameters(op)) {
    if (p.name === 'cursor' && on('cursor')) {
      // Cursors broke most lists (issue 18): a good share of each list's requests carry one.
      // Lists under /v1/campaigns are keyed by Patreon's ids (text); the others by our own.
      const ownIds = !op.path.startsWith('/v1/campaigns');
      const cursor = cursorMutation(p, ctx.realCursors(op), ownIds);
      out.push(cursor, cursor, cursor);
    }
    if (p.schema.type === 'integer' && on('bounds')) {
      out.push(queryValue(p, fc.constantFrom(...BOUND_NUMBER_TEXTS), 'bounds'));
    }
    if (isTime(p.schema) && on('times')) out.push(queryValue(p, edgeTime, 'times'));
    if (on('bytes')) out.push(queryBytes(p));
  }
  if (on('bytes') && queryParameters(op).length > 0) {
    out.push(
      mutation(
        fc.tuple(fc.constantFrom(...BAD_PERCENT_BYTES), fc.constantFrom('key', 'bare')),
        (draft, [bad, where]) => {
          draft.query.push(where === 'key' ? [bad, '1'] : [bad, '']);
          return `query key ${short(bad)}`;
        },
        'bytes',
      ),
    );
  }
  const props = Object.entries(op.body?.schema.properties ?? {});
  for (const [name, schema] of props) {
    if (schema.type === 'integer' && on('bounds')) {
      out.push(bodyLiteral(name, schema, fc.constantFrom(...BOUND_NUMBER_LITERALS), 'bounds'));
    }
    if (isTime(schema) && on('times')) {
      out.push(
        bodyLiteral(
          name,
          schema,
          edgeTime.map((t) => JSON.stringify(t)),
          'times',
        ),
      );
    }
    if (schema.type === 'string' && on('bytes')) out.push(bodyBytes(name, schema));
  }
  if (props.length > 0 && on('bytes')) out.push(bodyKeyBytes());
  if (!options.bodyAndQueryOnly && on('bytes')) out.push(headerBytes(op));
  return out;
}

function queryValue(p: Parameter, values: fc.Arbitrary<string>, family: Family) {
  return mutation(
    values,
    (draft, value) => {
      setQuery(draft, p.name, value);
      if (!acceptsParameter(p.schema, value)) refuse(draft, `query:${p.name}`);
      return `query ${p.name}=${short(value)}`;
    },
    family,
  );
}

/** Bad bytes alone, or around a valid value (`true%00`), sent as they are in the URL. */
function queryBytes(p: Parameter) {
  const valid = String(
    p.schema.enum?.[0] ?? p.schema.example ?? (p.schema.type === 'integer' ? 1 : 'x'),
  );
  return mutation(
    fc.tuple(fc.constantFrom(...BAD_PERCENT_BYTES), fc.boolean()),
    (draft, [bad, around]) => {
      const value = around ? `${percentEncode(valid)}${bad}` : bad;
      setRawQuery(draft, p.name, value);
      return `raw query ${p.name}=${short(value)}`;
    },
    'bytes',
  );
}

/** The baseline body with one field written as literal JSON text (bounds past a double, NaN). */
function bodyLiteral(name: string, schema: Schema, literals: fc.Arbitrary<string>, family: Family) {
  return mutation(
    literals,
    (draft, literal) => {
      const body = { ...bodyObject(draft), [name]: '\u0001' };
      draft.body = { raw: JSON.stringify(body).replace('"\\u0001"', literal) };
      draft.contentType = 'application/json';
      let value: unknown;
      let parsed = true;
      try {
        value = JSON.parse(literal);
      } catch {
        parsed = false;
      }
      if (!parsed || !acceptsJson(schema, value)) refuse(draft, 'body');
      return `body.${name}=${short(literal)}`;
    },
    family,
  );
}

/** A body whose text has raw invalid UTF-8 (or NUL) at `at`, the rest being the baseline. */
function rawJsonWith(draft: Draft, body: Record<string, unknown>, bytes: Buffer) {
  const [before, after] = JSON.stringify(body).split('\\u0001') as [string, string];
  draft.body = { raw: Buffer.concat([Buffer.from(before), bytes, Buffer.from(after)]) };
  draft.contentType = 'application/json';
  // A raw control character inside a JSON string is invalid JSON.
  if (bytes.includes(0)) refuse(draft, 'body');
}

function bodyBytes(name: string, schema: Schema) {
  const valid = String(schema.enum?.[0] ?? 'x');
  return mutation(
    fc.tuple(
      fc.constantFrom(...BAD_BYTES),
      fc.constantFrom('raw', 'escaped NUL', 'lone surrogate'),
    ),
    (draft, [bytes, how]) => {
      if (how === 'raw') {
        rawJsonWith(draft, { ...bodyObject(draft), [name]: `${valid}\u0001` }, bytes);
        return `body.${name} with bytes ${short(bytes.toString('hex'))}`;
      }
      const text = how === 'escaped NUL' ? `${valid}\u0000` : `${valid}\ud800`;
      draft.body = { json: { ...bodyObject(draft), [name]: text } };
      if (!acceptsJson(schema, text)) refuse(draft, 'body');
      return `body.${name}=${short(text)}`;
    },
    'bytes',
  );
}

function bodyKeyBytes() {
  return mutation(
    fc.tuple(fc.constantFrom(...BAD_BYTES), fc.boolean()),
    (draft, [bytes, raw]) => {
      const body = bodyObject(draft) ?? {};
      if (raw) {
        rawJsonWith(draft, { ...body, '\u0001': 1 }, bytes);
        return `body key with bytes ${short(bytes.toString('hex'))}`;
      }
      draft.body = { json: { ...body, 'url\u0000': 'x', '\u0000': 1, '\ud800': 2 } };
      return 'body keys with NUL and a lone surrogate';
    },
    'bytes',
  );
}

const BYTE_HEADERS = [
  'x-request-id',
  'accept',
  'accept-language',
  'user-agent',
  'cookie',
  'x-forwarded-for',
  'if-none-match',
  'x-patreon-event',
  'x-patreon-signature',
];

/** Header values with raw high bytes, as Node hands them over (latin1); CR, LF and NUL cannot. */
function headerBytes(op: Operation) {
  const names = op.method === 'GET' ? [...BYTE_HEADERS, 'content-type'] : BYTE_HEADERS;
  return mutation(
    fc.tuple(
      fc.constantFrom(...names),
      fc.constantFrom(...BAD_BYTES.filter((bytes) => !bytes.includes(0))),
    ),
    (draft, [name, bytes]) => {
      draft.headers[name] = `x${bytes.toString('latin1')}`;
      return `header ${name} with bytes ${short(bytes.toString('hex'))}`;
    },
    'bytes',
  );
}
