import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export type Operation = {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  /** A minimal JSON body when the operation takes one. */
  body: Record<string, unknown> | undefined;
};

export const SAMPLE_UUID = '0b7e6c1a-4d2f-4c8e-9a51-3f6d2e8b7c40';

/** Every operation in openapi.yaml under `prefix`, with plausible path parameters filled in. */
export function documentedOperations(prefix = '/v1/'): Operation[] {
  const document = parse(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8')) as {
    paths: Record<string, Record<string, { requestBody?: unknown }>>;
  };
  return Object.entries(document.paths)
    .filter(([path]) => path.startsWith(prefix))
    .flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({
        method: method.toUpperCase() as Operation['method'],
        // Campaign ids are Patreon's numeric strings; member ids (Patreon's) and ours are UUIDs.
        url: path.replace(/\{(\w+)\}/g, (_, name: string) =>
          path.startsWith('/v1/campaigns/') && name === 'id' ? '1234560' : SAMPLE_UUID,
        ),
        body: operation.requestBody ? {} : undefined,
      })),
    );
}
