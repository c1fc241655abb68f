import type { z } from 'zod';
import { envSchema } from './schema.js';

/** The configuration table in docs/configuration.md, rendered from the schema so the two cannot drift apart. */
export function configTable(): string {
  const rows = Object.entries(envSchema.shape).map(([name, schema]) => {
    const fallback = defaultOf(schema);
    const shown = fallback === undefined ? '' : `\`${fallback}\``;
    return `| \`${name}\` | ${shown} | ${(schema.description ?? '').replaceAll('|', '\\|')} |`;
  });
  return ['| Variable | Default | Meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

function defaultOf(schema: z.ZodType): unknown {
  const def = schema.def as { type: string; defaultValue?: unknown; innerType?: z.ZodType };
  // `prefault`: a default given as the raw variable text (parsed like a set value).
  if (def.type === 'default' || def.type === 'prefault') return def.defaultValue;
  return def.innerType ? defaultOf(def.innerType) : undefined;
}
