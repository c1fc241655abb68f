import { z } from 'zod';

/** RFC 9457 problem details, as every error response of this service is shaped. */
export const problemSchema = z
  .object({
    type: z.string().describe('URI naming the problem type; `urn:patreon-gateway:problem:<code>`.'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().describe('Stable machine-readable code; decide on this, not on text.'),
    requestId: z.string().describe('Echoes the `x-request-id` response header, for support.'),
    errors: z
      .array(
        z.object({
          in: z.enum(['body', 'query', 'params', 'headers']),
          path: z.string().describe('Dotted path of the invalid field; empty for the whole part.'),
          message: z.string(),
        }),
      )
      .optional()
      .describe('Validation failures, one per field.'),
  })
  .meta({
    id: 'Problem',
    example: {
      type: 'urn:patreon-gateway:problem:validation-failed',
      title: 'Validation failed',
      status: 400,
      detail: 'The request has 1 invalid field.',
      code: 'VALIDATION_FAILED',
      requestId: '6f1c2a0e-4b7e-4a57-9d1e-2f0b1f3f4c11',
      errors: [{ in: 'query', path: 'limit', message: 'must be at most 200' }],
    },
  });

export type Problem = z.infer<typeof problemSchema>;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function problemType(code: string): string {
  return `urn:patreon-gateway:problem:${code.toLowerCase().replaceAll('_', '-')}`;
}

const descriptions: Record<number, string> = {
  400: 'The request is malformed or a field is invalid.',
  401: 'Missing or invalid API key.',
  404: 'No such resource.',
  405: 'Method not allowed on this path.',
  409: 'The resource is in a state that does not allow this.',
  413: 'Request body too large.',
  415: 'Unsupported content type.',
  422: 'The request is well-formed but not acceptable.',
  429: 'Too many requests.',
  500: 'Unexpected server error; details are in the logs under the request id.',
  503: 'Temporarily unavailable; retry later.',
};

/** Response entries for route schemas: each listed status answers with a Problem. */
export function problemResponses<S extends number>(...statuses: S[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: descriptions[status] ?? 'Error.',
        content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema } },
      },
    ]),
  ) as Record<
    S,
    { description: string; content: { [PROBLEM_CONTENT_TYPE]: { schema: typeof problemSchema } } }
  >;
}
