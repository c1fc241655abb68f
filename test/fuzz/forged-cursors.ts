import fc from 'fast-check';
import { mutation, type RealCursor, refuse, setQuery, setRawQuery, short } from './draft.js';
import {
  BAD_BYTES,
  BAD_PERCENT_BYTES,
  base64url,
  cursorParts,
  HOSTILE_CURSOR_VALUES,
  surelyInvalidPart,
} from './hostile-values.js';
import type { Parameter } from './operations.js';

/** Whether a cursor no list can accept, judged against the real cursor it was made from. */
function cursorSurelyInvalid(
  candidate: string,
  real: string | undefined,
  ownIds: boolean,
): boolean {
  if (candidate.length === 0) return false;
  if (candidate.length > 512) return true;
  const bytes = Buffer.from(candidate, 'base64url');
  if (real !== undefined && bytes.equals(Buffer.from(real, 'base64url'))) return false;
  const parts = cursorParts(candidate);
  if (!parts) return true;
  const kinds = (part: unknown) =>
    part !== null &&
    (typeof part !== 'string' || part.includes('\u0000') || /[\ud800-\udfff]/.test(part));
  if (parts.some(kinds)) return true;
  if (real === undefined) return false;
  const realParts = cursorParts(real);
  if (!realParts || realParts.length !== parts.length) return true;
  return parts.some((part, i) => surelyInvalidPart(realParts[i], part, ownIds));
}

type Forged = { cursor: string; raw?: string; from?: RealCursor; label: string };

/** Forged cursors (hostile parts, by count), tampered real ones, and bytes around real ones. */
export function forgedCursors(reals: RealCursor[]): fc.Arbitrary<Forged> {
  const value = fc.constantFrom(...HOSTILE_CURSOR_VALUES);
  const forged = fc
    .tuple(fc.integer({ min: 0, max: 5 }), fc.array(value, { minLength: 5, maxLength: 5 }))
    .map(([n, parts]): Forged => {
      const key = parts.slice(0, n);
      return { cursor: base64url(JSON.stringify(key)), label: `forged ${short(key)}` };
    });
  const arbitraries: fc.Arbitrary<Forged>[] = [
    forged,
    fc
      .constantFrom('', '=', '!!!!', 'AAAA', base64url('{}'), base64url('"x"'), base64url('null'))
      .map((cursor) => ({ cursor, label: `malformed ${short(cursor)}` })),
  ];
  if (reals.length > 0) {
    const real = fc.constantFrom(...reals);
    const parts = (r: RealCursor) => cursorParts(r.cursor) ?? [];
    arbitraries.push(
      // The right count, one part of the wrong type or range.
      fc.tuple(real, fc.nat(), value).map(([from, index, replacement]): Forged => {
        const key = [...parts(from)];
        if (key.length > 0) key[index % key.length] = replacement;
        return { cursor: base64url(JSON.stringify(key)), from, label: `tampered ${short(key)}` };
      }),
      // A part too many or too few, or the key wrapped.
      fc.tuple(real, fc.constantFrom('drop', 'append', 'wrap', 'string')).map(([from, how]) => {
        const key = parts(from);
        const changed =
          how === 'drop'
            ? key.slice(0, -1)
            : how === 'append'
              ? [...key, 'x']
              : how === 'wrap'
                ? { key }
                : JSON.stringify(key);
        return {
          cursor: base64url(JSON.stringify(changed)),
          from,
          label: `${how} ${short(changed)}`,
        };
      }),
      // Invalid UTF-8 or NUL bytes inside one part's string.
      fc
        .tuple(real, fc.nat(), fc.constantFrom(...BAD_BYTES))
        .map(([from, index, bytes]): Forged => {
          const key = [...parts(from)];
          if (key.length > 0) key[index % key.length] = `${key[index % key.length]}\u0001`;
          const [before, after] = JSON.stringify(key).split('\\u0001') as [string, string];
          const cursor = base64url(
            Buffer.concat([Buffer.from(before), bytes, Buffer.from(after ?? '')]),
          );
          return {
            cursor,
            from,
            label: `bytes ${short(bytes.toString('hex'))} in part ${index % Math.max(key.length, 1)}`,
          };
        }),
      // One character of the text changed, standard base64, or bytes in the URL around it.
      fc
        .tuple(real, fc.nat(), fc.constantFrom('A', '_', '-', '+', '/', '=', '.'))
        .map(([from, at, char]): Forged => {
          const i = at % from.cursor.length;
          const cursor = `${from.cursor.slice(0, i)}${char}${from.cursor.slice(i + 1)}`;
          return { cursor, from, label: `char ${i} → ${short(char)}` };
        }),
      real.map((from) => ({
        cursor: Buffer.from(from.cursor, 'base64url').toString('base64'),
        from,
        label: 'standard base64',
      })),
      fc.tuple(real, fc.constantFrom(...BAD_PERCENT_BYTES)).map(([from, bad]) => ({
        cursor: '',
        raw: `${from.cursor}${bad}`,
        from,
        label: `raw ${short(`…${bad}`)}`,
      })),
    );
  }
  return fc.oneof(...arbitraries);
}

export function cursorMutation(p: Parameter, reals: RealCursor[], ownIds: boolean) {
  return mutation(
    forgedCursors(reals),
    (draft, forged) => {
      for (const [key, value] of forged.from?.query ?? []) setQuery(draft, key, value);
      if (forged.raw !== undefined) setRawQuery(draft, p.name, forged.raw);
      else {
        setQuery(draft, p.name, forged.cursor);
        if (cursorSurelyInvalid(forged.cursor, forged.from?.cursor, ownIds))
          refuse(draft, `query:${p.name}`);
      }
      return `cursor ${forged.label}`;
    },
    'cursor',
  );
}
