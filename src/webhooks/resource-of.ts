export type ResourceRef = { type: string | null; id: string | null };

const NONE: ResourceRef = { type: null, id: null };
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

/** What `JSON.parse` says `data.type` and `data.id` are (nulls when it cannot parse). */
function parsed(body: Buffer): ResourceRef {
  try {
    const data = (JSON.parse(body.toString('utf8')) as { data?: { type?: unknown; id?: unknown } })
      .data;
    return {
      type: typeof data?.type === 'string' ? data.type : null,
      id: typeof data?.id === 'string' || typeof data?.id === 'number' ? String(data.id) : null,
    };
  } catch {
    return NONE;
  }
}

/** Index of the first byte after whitespace from `i`. */
function skipSpace(body: Buffer, i: number): number {
  let at = i;
  while (at < body.length) {
    const c = body[at] as number;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    at++;
  }
  return at;
}

/**
 * Which member or post a delivery is about (`data.type`, `data.id`), so its events apply in
 * order. Every delivery is read for it on the ingest path, so the bytes are scanned once rather
 * than parsed into objects (a Patreon member payload has dozens of fields and `included`
 * resources). The scan gives up and lets `JSON.parse` decide whenever it is not plainly sure: a
 * body that does not start as an object, an escape in a name or value it needs, a `type` or `id`
 * that is not a string. A body that is not JSON may get a reference from the scan where
 * `JSON.parse` would give none; such a delivery fails when applied, whatever its reference.
 */
export function resourceOf(body: Buffer): ResourceRef {
  let i = skipSpace(body, 0);
  if (body[i] !== 0x7b) return parsed(body);
  let depth = 0;
  let dataDepth = -1; // the depth inside the top-level `data` object, while in it
  let type: string | null = null;
  let id: string | null = null;
  for (; i < body.length; i++) {
    const c = body[i] as number;
    if (c === QUOTE) {
      // A string: a name when a colon follows it.
      const start = i + 1;
      let end = start;
      let escaped = false;
      while (end < body.length && body[end] !== QUOTE) {
        if (body[end] === BACKSLASH) {
          escaped = true;
          end++;
        }
        end++;
      }
      const next = skipSpace(body, end + 1);
      i = end;
      if (body[next] !== COLON) continue;
      if (depth !== 1 && depth !== dataDepth) continue;
      // An escaped name could spell one we look for.
      if (escaped) return parsed(body);
      const name = body.toString('latin1', start, end);
      const valueAt = skipSpace(body, next + 1);
      if (depth === 1 && name === 'data') {
        // A later `data` replaces an earlier one, as in JSON.parse.
        type = null;
        id = null;
        dataDepth = body[valueAt] === 0x7b ? 2 : -1;
      } else if (depth === dataDepth && (name === 'type' || name === 'id')) {
        if (body[valueAt] !== QUOTE) return parsed(body);
        let valueEnd = valueAt + 1;
        while (valueEnd < body.length && body[valueEnd] !== QUOTE) {
          if (body[valueEnd] === BACKSLASH) return parsed(body);
          valueEnd++;
        }
        const value = body.toString('utf8', valueAt + 1, valueEnd);
        if (name === 'type') type = value;
        else id = value;
        i = valueEnd;
      }
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
    } else if (c === 0x7d || c === 0x5d) {
      if (depth === dataDepth) dataDepth = -1;
      depth--;
    }
  }
  return { type, id };
}
