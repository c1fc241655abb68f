import { apiErrors } from '../world/errors.js';
import { RESOURCE_SCHEMAS } from './resource-schema.js';

/** A resource ready to serialise; relationships resolve lazily, only when included. */
export interface Resource {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
  relationships: Record<string, () => Resource | Resource[] | null>;
  /** `links.related` for to-one relationships, by relationship name. */
  related?: Record<string, string>;
}

export interface JsonApiQuery {
  fields: Map<string, Set<string>>;
  include: string[][];
  pageCount: number | undefined;
  pageCursor: string | undefined;
  params: URLSearchParams;
}

/**
 * Reads the raw query string itself: both `fields%5Bmember%5D` and `fields[member]`
 * decode to the same key, whatever querystring parser the host app installed.
 */
export function parseQuery(
  url: string,
  rootType: string,
  allowedIncludes: readonly string[],
): JsonApiQuery {
  const params = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
  const fields = new Map<string, Set<string>>();
  for (const [key, value] of params) {
    const match = /^fields\[(.+)\]$/.exec(key);
    if (!match) continue;
    const type = match[1] as string;
    const schema = RESOURCE_SCHEMAS[type];
    if (!schema) throw apiErrors.badRequest(`Unknown resource type "${type}" in ${key}.`, key);
    const names = value
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean);
    for (const name of names) {
      // docs/patreon-api.md sandbox table: unknown `fields` name → 400.
      if (!schema.attributes.includes(name))
        throw apiErrors.badRequest(`"${name}" is not an attribute of ${type}.`, key);
    }
    fields.set(type, new Set([...(fields.get(type) ?? []), ...names]));
  }

  const include: string[][] = [];
  for (const path of (params.get('include') ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const segments = path.split('.');
    let type = rootType;
    segments.forEach((segment, depth) => {
      const relationship = RESOURCE_SCHEMAS[type]?.relationships[segment];
      if (!relationship || (depth === 0 && !allowedIncludes.includes(segment))) {
        throw apiErrors.badRequest(
          `"${path}" is not a valid include for this endpoint.`,
          'include',
        );
      }
      type = relationship.type;
    });
    include.push(segments);
  }

  const rawCount = params.get('page[count]');
  let pageCount: number | undefined;
  if (rawCount !== null) {
    pageCount = Number(rawCount);
    if (!/^\d+$/.test(rawCount) || pageCount < 1)
      throw apiErrors.badRequest('page[count] must be a positive integer.', 'page[count]');
  }
  return {
    fields,
    include,
    pageCount,
    pageCursor: params.get('page[cursor]') ?? undefined,
    params,
  };
}

export function includes(query: JsonApiQuery, name: string): boolean {
  return query.include.some((path) => path[0] === name);
}

interface IncludeTree extends Map<string, IncludeTree> {}

function includeTree(paths: string[][]): IncludeTree {
  const root: IncludeTree = new Map();
  for (const path of paths) {
    let node = root;
    for (const segment of path) {
      const child = node.get(segment) ?? new Map();
      node.set(segment, child);
      node = child;
    }
  }
  return root;
}

const key = (r: { type: string; id: string }) => `${r.type}\u0000${r.id}`;
const identifier = (r: Resource) => ({ type: r.type, id: r.id });

/** Builds `{data, included, links, meta}` with sparse fieldsets and de-duplicated `included` (docs/patreon-api.md §3). */
export function buildDocument(
  primary: Resource | Resource[],
  query: Pick<JsonApiQuery, 'fields' | 'include'>,
  extra: { links?: Record<string, string>; meta?: Record<string, unknown> } = {},
): Record<string, unknown> {
  const primaries = Array.isArray(primary) ? primary : [primary];
  const shown = new Map<string, Map<string, Resource | Resource[] | null>>();
  const included = new Map<string, Resource>();
  const primaryKeys = new Set(primaries.map(key));

  function visit(resource: Resource, tree: IncludeTree): void {
    if (tree.size === 0) return;
    const rels = shown.get(key(resource)) ?? new Map<string, Resource | Resource[] | null>();
    shown.set(key(resource), rels);
    for (const [name, subtree] of tree) {
      const value = rels.has(name)
        ? (rels.get(name) ?? null)
        : (resource.relationships[name]?.() ?? null);
      rels.set(name, value);
      for (const related of value === null ? [] : Array.isArray(value) ? value : [value]) {
        const k = key(related);
        if (!primaryKeys.has(k) && !included.has(k)) included.set(k, related);
        visit(included.get(k) ?? related, subtree);
      }
    }
  }
  const tree = includeTree(query.include);
  for (const resource of primaries) visit(resource, tree);

  function serialise(resource: Resource): Record<string, unknown> {
    const wanted = query.fields.get(resource.type);
    const attributes: Record<string, unknown> = {};
    if (wanted)
      for (const name of wanted)
        if (name in resource.attributes) attributes[name] = resource.attributes[name];
    const out: Record<string, unknown> = { attributes, id: resource.id };
    const rels = shown.get(key(resource));
    if (rels && rels.size > 0) {
      const relationships: Record<string, unknown> = {};
      for (const [name, value] of rels) {
        if (Array.isArray(value)) relationships[name] = { data: value.map(identifier) };
        else {
          const related = value ? resource.related?.[name] : undefined;
          relationships[name] = related
            ? { data: value && identifier(value), links: { related } }
            : { data: value && identifier(value) };
        }
      }
      out.relationships = relationships;
    }
    out.type = resource.type;
    return out;
  }

  const doc: Record<string, unknown> = {
    data: Array.isArray(primary) ? primaries.map(serialise) : serialise(primary),
  };
  if (included.size > 0) doc.included = [...included.values()].map(serialise);
  if (extra.links) doc.links = extra.links;
  if (extra.meta) doc.meta = extra.meta;
  return doc;
}

/** Opaque page cursors: a position in a stable ordering. */
export function encodeCursor(position: number): string {
  return Buffer.from(`pos:${position}`).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  const match = /^pos:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw apiErrors.badRequest('page[cursor] is not a valid cursor.', 'page[cursor]');
  return Number(match[1]);
}

/** docs/patreon-api.md §5: `links.next` repeats the query and adds `page%5Bcursor%5D=…`. */
export function nextLink(
  baseUrl: string,
  path: string,
  params: URLSearchParams,
  cursor: string,
): string {
  const next = new URLSearchParams(params);
  next.set('page[cursor]', cursor);
  return `${baseUrl}${path}?${next.toString()}`;
}
