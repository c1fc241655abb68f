import { z } from 'zod';
import { isPatreonIdOf } from '../shared/ids.js';
import { PatreonError } from './errors.js';
import {
  attributeShapes,
  camelCase,
  fastChecks,
  INVALID,
  type ResourceOf,
  type ResourceType,
} from './resources.js';

/**
 * Decodes Patreon's JSON:API documents into plain, typed, camelCased objects with their
 * relationships resolved from `included` (docs/patreon-api.md §3). Resources referenced but not
 * included come back as `{ id }`.
 */

const id = z.union([z.string(), z.number().transform(String)]);
const ref = z.object({ type: z.string(), id });
const rawResource = z.object({
  type: z.string(),
  id,
  attributes: z.record(z.string(), z.unknown()).nullish(),
  relationships: z
    .record(
      z.string(),
      z.object({ data: z.union([ref, z.array(ref), z.null()]).optional() }).nullish(),
    )
    .nullish(),
});
type RawResource = z.infer<typeof rawResource>;

export const rawDocument = z.object({
  data: z.union([rawResource, z.array(rawResource), z.null()]),
  included: z.array(rawResource).nullish(),
  meta: z
    .object({
      pagination: z
        .object({
          total: z.number().nullish(),
          cursors: z.object({ next: z.string().nullish() }).nullish(),
        })
        .nullish(),
    })
    .nullish(),
  links: z.object({ next: z.string().nullish() }).nullish(),
});

export type PageInfo = { total: number | undefined; nextCursor: string | undefined };

const attributeSchemas = Object.fromEntries(
  Object.entries(attributeShapes).map(([type, shape]) => [
    type,
    {
      schema: z.object(shape as z.ZodRawShape) as z.ZodType,
      keys: Object.entries(shape as z.ZodRawShape).map(
        ([key, schema]) => [key, camelCase(key), fastChecks.get(schema as z.ZodType)] as const,
      ),
    },
  ]),
) as Record<
  ResourceType,
  {
    schema: z.ZodType;
    keys: (readonly [string, string, ((value: unknown) => unknown) | undefined])[];
  }
>;

const isKnownType = (type: string): type is ResourceType => type in attributeSchemas;

/**
 * The problem named when a resource (or a reference to one) carries an id Patreon does not issue
 * for its type (patreon/ids.ts): such an id would be stored and then never found by its lookup.
 */
const NOT_AN_ID = 'is not an id Patreon issues for its type';

/** Whether a decode failed on an id rather than on the document's shape. */
export const isInvalidIdError = (error: unknown): boolean =>
  error instanceof PatreonError && error.message.endsWith(NOT_AN_ID);

function checkId(type: string, id: string, endpoint: string, path: string) {
  if (isKnownType(type) && !isPatreonIdOf(type, id)) throw badResponse(endpoint, path, NOT_AN_ID);
}

export function badResponse(endpoint: string, path: string, problem: string): PatreonError {
  return new PatreonError('PATREON_BAD_RESPONSE', `${endpoint}: ${path} ${problem}`, {
    endpoint,
    path,
  });
}

function issuePath(prefix: string, issue: z.core.$ZodIssue): string {
  return [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isAbsent = (value: unknown) => value === undefined || value === null;
const isOptionalString = (value: unknown) => isAbsent(value) || typeof value === 'string';
const isRef = (value: unknown) =>
  isObject(value) && typeof value.type === 'string' && typeof value.id === 'string';

function isPlainResource(value: unknown): boolean {
  if (!isRef(value)) return false;
  const { attributes, relationships } = value as Record<string, unknown>;
  if (!isAbsent(attributes) && !isObject(attributes)) return false;
  if (isAbsent(relationships)) return true;
  if (!isObject(relationships)) return false;
  for (const name in relationships) {
    const relationship = relationships[name];
    if (isAbsent(relationship)) continue;
    if (!isObject(relationship)) return false;
    const { data } = relationship;
    if (isAbsent(data) || isRef(data)) continue;
    if (!Array.isArray(data) || !data.every(isRef)) return false;
  }
  return true;
}

/**
 * What `rawDocument` accepts without changing anything (string ids, nothing to strip that we
 * read), checked in place: zod would build every object of the page again. Anything else goes
 * through zod, which converts it or says what is wrong.
 */
export function isPlainDocument(body: unknown): body is z.infer<typeof rawDocument> {
  if (!isObject(body)) return false;
  const { data, included, meta, links } = body;
  if (data === null) {
    // a single resource that does not exist
  } else if (Array.isArray(data)) {
    if (!data.every(isPlainResource)) return false;
  } else if (!isPlainResource(data)) return false;
  if (!isAbsent(included) && !(Array.isArray(included) && included.every(isPlainResource))) {
    return false;
  }
  if (!isAbsent(links) && !(isObject(links) && isOptionalString(links.next))) return false;
  if (isAbsent(meta)) return true;
  if (!isObject(meta)) return false;
  const { pagination } = meta;
  if (isAbsent(pagination)) return true;
  if (!isObject(pagination)) return false;
  const { total, cursors } = pagination;
  if (!isAbsent(total) && typeof total !== 'number') return false;
  return isAbsent(cursors) || (isObject(cursors) && isOptionalString(cursors.next));
}

function parseDocument(body: unknown, endpoint: string) {
  if (isPlainDocument(body)) return body;
  const parsed = rawDocument.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    throw badResponse(endpoint, issuePath('', issue), issue.message);
  }
  return parsed.data;
}

type Decoded = Record<string, unknown> & { id: string };

function decodeAll(document: z.infer<typeof rawDocument>, endpoint: string) {
  const byKey = new Map<string, Decoded>();
  const entries: [RawResource, Decoded][] = [];
  const decode = (resource: RawResource, path: string) => {
    checkId(resource.type, resource.id, endpoint, `${path}.id`);
    const decoded: Decoded = { id: resource.id };
    if (isKnownType(resource.type)) {
      const { schema, keys } = attributeSchemas[resource.type];
      const raw = resource.attributes ?? {};
      let fast = true;
      for (const [snake, camel, check] of keys) {
        const value = check ? check(raw[snake]) : INVALID;
        if (value === INVALID) {
          fast = false;
          break;
        }
        if (value !== undefined) decoded[camel] = value;
      }
      if (!fast) {
        // zod decides (and names the problem) whatever the hand checks did not accept.
        const parsed = schema.safeParse(raw);
        if (!parsed.success) {
          const issue = parsed.error.issues[0] as z.core.$ZodIssue;
          throw badResponse(endpoint, issuePath(`${path}.attributes`, issue), issue.message);
        }
        const attributes = parsed.data as Record<string, unknown>;
        for (const [snake, camel] of keys) {
          if (attributes[snake] !== undefined) decoded[camel] = attributes[snake];
        }
      }
    }
    byKey.set(`${resource.type}:${resource.id}`, decoded);
    entries.push([resource, decoded]);
    return decoded;
  };

  const data = Array.isArray(document.data)
    ? document.data.map((resource, i) => decode(resource, `data[${i}]`))
    : document.data
      ? decode(document.data, 'data')
      : null;
  (document.included ?? []).forEach((resource, i) => {
    if (!byKey.has(`${resource.type}:${resource.id}`)) decode(resource, `included[${i}]`);
  });

  for (const [resource, decoded] of entries) {
    for (const [name, relationship] of Object.entries(resource.relationships ?? {})) {
      if (!relationship || relationship.data === undefined) continue;
      const target = relationship.data;
      const lookup = (to: z.infer<typeof ref>) => {
        const found = byKey.get(`${to.type}:${to.id}`);
        if (found) return found;
        checkId(to.type, to.id, endpoint, `relationships.${name}.data.id`);
        return { id: to.id };
      };
      decoded[camelCase(name)] = Array.isArray(target)
        ? target.map(lookup)
        : target === null
          ? null
          : lookup(target);
    }
  }
  return data;
}

function pageInfo(document: z.infer<typeof rawDocument>): PageInfo {
  const pagination = document.meta?.pagination;
  let nextCursor = pagination?.cursors?.next ?? undefined;
  if (!nextCursor && document.links?.next) {
    // Some clients only follow `links.next`; take the cursor from it when meta has none.
    nextCursor = new URL(document.links.next).searchParams.get('page[cursor]') ?? undefined;
  }
  return { total: pagination?.total ?? undefined, nextCursor };
}

function checkType(resource: RawResource, expected: ResourceType, endpoint: string, path: string) {
  if (resource.type !== expected) {
    throw badResponse(endpoint, `${path}.type`, `is "${resource.type}", expected "${expected}"`);
  }
}

export function decodeOne<T extends ResourceType>(
  body: unknown,
  type: T,
  endpoint: string,
): ResourceOf[T] {
  const document = parseDocument(body, endpoint);
  if (!document.data || Array.isArray(document.data)) {
    throw badResponse(endpoint, 'data', 'must be a single resource');
  }
  checkType(document.data, type, endpoint, 'data');
  return decodeAll(document, endpoint) as unknown as ResourceOf[T];
}

export function decodeMany<T extends ResourceType>(
  body: unknown,
  type: T,
  endpoint: string,
): { items: ResourceOf[T][]; page: PageInfo } {
  const document = parseDocument(body, endpoint);
  if (!Array.isArray(document.data)) throw badResponse(endpoint, 'data', 'must be an array');
  document.data.forEach((resource, i) => {
    checkType(resource, type, endpoint, `data[${i}]`);
  });
  const items = decodeAll(document, endpoint) as unknown as ResourceOf[T][];
  return { items, page: pageInfo(document) };
}

/** The body as JSON when it is JSON, else the text (undefined when empty). */
export function parseBody(text: string, contentType: unknown): unknown {
  if (text === '') return undefined;
  if (typeof contentType === 'string' && !contentType.includes('json')) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
