import { readFile } from 'node:fs/promises';
import t from 'tap';
import { parse } from 'yaml';
import { isMemberId, isNumericId } from '../../src/shared/ids.js';
import { auth, build } from '../helper.js';

/**
 * Every input is bounded before it reaches SQL (issue 18): a value the schema lets through must
 * be one PostgreSQL can take (no overlong string, no integer past its column, no endless array).
 * NUL is refused for every route at once (src/http/nul-guard.ts), so it is checked once, below.
 */

type Schema = {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  maxItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
};
type Parameter = { in: string; name: string; schema: Schema };
type Operation = {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
};
type Document = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};

/** Integer columns are `integer` (int4); ids that could exceed it are strings. */
const INT4 = 2_147_483_647;

/** Operations whose body is bytes checked by signature, not a schema (the raw webhook ingest). */
const RAW_BODY = new Set(['receivePatreonWebhook']);

/**
 * Whether a pattern bounds the length of what it matches: anchored at both ends (no top-level
 * alternative escapes the anchors) and every quantifier bounded (no `*`, `+`, `{n,}`).
 */
export function isBoundedPattern(pattern: string): boolean {
  if (!pattern.startsWith('^') || !pattern.endsWith('$') || pattern.endsWith('\\$')) return false;
  let depth = 0;
  let inClass = false;
  for (let i = 1; i < pattern.length - 1; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) return false;
    else if (c === '*' || c === '+') return false;
    else if (c === '{' && /^\{\d*,\}/.test(pattern.slice(i))) return false;
  }
  return depth === 0 && !inClass;
}

/** Why a schema lets an unbounded value through, per JSON path below it (empty: bounded). */
export function unboundedIn(schema: Schema, resolve: (ref: string) => Schema, at = ''): string[] {
  if (schema.$ref) return unboundedIn(resolve(schema.$ref), resolve, at);
  if (schema.enum || schema.const !== undefined) return [];
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) return branches.flatMap((branch) => unboundedIn(branch, resolve, at));
  if (schema.allOf) {
    // Every branch applies: bounded when one of them bounds it.
    const found = schema.allOf.map((branch) => unboundedIn(branch, resolve, at));
    return found.some((problems) => problems.length === 0) ? [] : (found[0] ?? []);
  }
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  return types.flatMap((type): string[] => {
    switch (type) {
      case 'null':
      case 'boolean':
        return [];
      case 'string': {
        if (schema.maxLength !== undefined) return [];
        if (schema.pattern && isBoundedPattern(schema.pattern)) return [];
        return [`${at}: a string without maxLength, enum or a bounded pattern`];
      }
      case 'integer':
      case 'number': {
        const low = schema.minimum ?? schema.exclusiveMinimum;
        const high = schema.maximum ?? schema.exclusiveMaximum;
        if (low === undefined || high === undefined) {
          return [`${at}: a number without minimum and maximum`];
        }
        if (type === 'integer' && (low < -INT4 || high > INT4)) {
          return [`${at}: an integer bounded past int4 (${low}..${high})`];
        }
        return [];
      }
      case 'array': {
        const items = schema.items ? unboundedIn(schema.items, resolve, `${at}[]`) : [];
        return schema.maxItems === undefined
          ? [`${at}: an array without maxItems`, ...items]
          : items;
      }
      case 'object': {
        const properties = Object.entries(schema.properties ?? {}).flatMap(([key, property]) =>
          unboundedIn(property, resolve, `${at}.${key}`),
        );
        // Absent, unknown keys are stripped by zod before the handler sees them.
        const extra = schema.additionalProperties;
        if (extra === true) return [`${at}: any additional property`, ...properties];
        if (typeof extra === 'object') {
          properties.push(...unboundedIn(extra, resolve, `${at}.*`));
        }
        return properties;
      }
      default:
        return [`${at}: no type, so anything`];
    }
  });
}

async function readDocument(): Promise<Document> {
  return parse(await readFile(new URL('../../openapi.yaml', import.meta.url), 'utf8'));
}

/** `operationId in.name.path: why` for every unbounded input of the document. */
function unboundedInputs(doc: Document): string[] {
  const resolve = (ref: string) => {
    const schema = doc.components.schemas[ref.replace('#/components/schemas/', '')];
    if (!schema) throw new Error(`unknown $ref ${ref}`);
    return schema;
  };
  const found: string[] = [];
  for (const item of Object.values(doc.paths)) {
    for (const operation of Object.values(item)) {
      for (const parameter of operation.parameters ?? []) {
        for (const why of unboundedIn(parameter.schema, resolve)) {
          found.push(`${operation.operationId} ${parameter.in}.${parameter.name}${why}`);
        }
      }
      if (RAW_BODY.has(operation.operationId)) continue;
      for (const [type, { schema }] of Object.entries(operation.requestBody?.content ?? {})) {
        for (const why of unboundedIn(schema, resolve, 'body')) {
          found.push(`${operation.operationId} (${type}) ${why}`);
        }
      }
    }
  }
  return found;
}

t.test('the bound checker itself tells bounded from unbounded', async (t) => {
  const none = () => {
    throw new Error('no refs here');
  };
  const bounded: Schema[] = [
    { type: 'string', maxLength: 10 },
    { type: 'string', enum: ['a'] },
    { type: 'string', format: 'uuid', pattern: '^([0-9a-f]{8}-[0-9a-f]{4}|0{8})$' },
    { type: 'integer', minimum: 1, maximum: 200 },
    { type: 'array', maxItems: 3, items: { type: 'string', maxLength: 1 } },
    { anyOf: [{ type: 'string', maxLength: 1 }, { type: 'null' }] },
    { type: 'object', properties: { a: { type: 'boolean' } }, additionalProperties: false },
  ];
  for (const schema of bounded) t.same(unboundedIn(schema, none), [], JSON.stringify(schema));
  const unbounded: Schema[] = [
    { type: 'string' },
    { type: 'string', format: 'date-time', pattern: '^\\d{4}(?:\\.\\d+)?$' },
    { type: 'string', pattern: '^a|b$' },
    { type: 'string', pattern: '^\\d{1,}$' },
    { type: 'string', pattern: '^\\d{3}' },
    { type: 'integer', minimum: 0 },
    { type: 'integer', minimum: 0, maximum: 9007199254740991 },
    { type: 'array', items: { type: 'boolean' } },
    { type: 'array', maxItems: 2, items: { type: 'string' } },
    { anyOf: [{ type: 'string' }, { type: 'null' }] },
    { type: 'object', properties: { a: { type: 'string' } } },
    { type: 'object', additionalProperties: true },
    {},
  ];
  for (const schema of unbounded) {
    t.not(unboundedIn(schema, none).length, 0, JSON.stringify(schema));
  }
});

t.test('every parameter and body property of openapi.yaml is bounded', async (t) => {
  const doc = await readDocument();
  t.ok(Object.keys(doc.paths).length > 10, 'the document has its operations');
  t.same(unboundedInputs(doc), [], 'no unbounded input (operationId, where, why)');
});

t.test('Patreon ids in paths and queries have the shapes src/patreon/ids.ts accepts', async (t) => {
  const doc = await readDocument();
  const ids: Record<string, (id: string) => boolean> = {
    'getCampaign path.id': isNumericId,
    'getMember path.id': isMemberId,
    'listCampaignMembers query.tierId': isNumericId,
    'listCampaignPledgeEvents query.memberId': isMemberId,
    'getEntitlement query.campaignId': isNumericId,
    'listWebhooks query.campaignId': isNumericId,
  };
  const samples = [
    '1',
    '1234567',
    '9'.repeat(19),
    '9'.repeat(20),
    '',
    'm1',
    '12a',
    '5e1f0c2a-6f7e-4e0f-9b51-0a4f7b1c2d3e',
    '5E1F0C2A-6F7E-4E0F-9B51-0A4F7B1C2D3E',
    '5e1f0c2a-6f7e-4e0f-9b51-0a4f7b1c2d3',
    '5e1f0c2a6f7e4e0f9b510a4f7b1c2d3e',
  ];
  const operations = Object.values(doc.paths).flatMap((item) => Object.values(item));
  for (const [where, accepts] of Object.entries(ids)) {
    const [operationId, place] = where.split(' ') as [string, string];
    const [location, name] = place.split('.');
    const parameter = operations
      .find((operation) => operation.operationId === operationId)
      ?.parameters?.find((p) => p.in === location && p.name === name);
    const pattern = parameter?.schema.pattern;
    if (!pattern) {
      t.fail(`${where} has no pattern`);
      continue;
    }
    for (const sample of samples) {
      t.equal(new RegExp(pattern).test(sample), accepts(sample), `${where} on ${sample}`);
    }
  }
});

t.test('NUL is refused before validation on every route (the guard is installed)', async (t) => {
  const { app } = await build(t);
  const response = await app.inject({
    url: '/v1/campaigns/1234560/members?email=a%00b',
    headers: auth(),
  });
  t.equal(response.statusCode, 400);
  t.match(response.json(), {
    code: 'VALIDATION_FAILED',
    errors: [{ in: 'query', path: 'email', message: /NUL/ }],
  });
});
