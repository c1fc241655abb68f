import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import {
  hasZodFastifySchemaValidationErrors,
  isResponseSerializationError,
} from 'fastify-type-provider-zod';
import { AppError } from '../shared/errors.js';
import { createMethodIndex } from './method-index.js';
import { PROBLEM_CONTENT_TYPE, type Problem, problemType } from './problem.js';

type ValidationIssue = NonNullable<Problem['errors']>[number];

const locations: Record<string, ValidationIssue['in']> = {
  body: 'body',
  querystring: 'query',
  params: 'params',
  headers: 'headers',
};

/** Fastify's own errors we answer with a specific status and code rather than a 500. */
const fastifyErrors: Record<string, { status: number; code: string; title: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    title: 'Payload Too Large',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    title: 'Unsupported Media Type',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: 'MALFORMED_REQUEST',
    title: 'Bad Request',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'MALFORMED_BODY', title: 'Bad Request' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'MALFORMED_BODY', title: 'Bad Request' },
  FST_ERR_BAD_URL: { status: 400, code: 'MALFORMED_URL', title: 'Bad Request' },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, code: 'URI_TOO_LONG', title: 'URI Too Long' },
};

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  problem: Omit<Problem, 'type' | 'requestId'>,
) {
  return reply
    .code(problem.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send({ type: problemType(problem.code), ...problem, requestId: request.id } satisfies Problem);
}

/**
 * The one place errors become responses: RFC 9457 problem+json for every status. 5xx bodies are
 * generic; their cause goes to the log under the request id.
 */
function renderError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof AppError) {
    if (error.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendProblem(request, reply, {
      status: error.status,
      code: error.code,
      title: error.title,
      detail: error.message,
    });
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const part = locations[error.validationContext ?? ''] ?? 'body';
    const errors = error.validation.map((issue) => ({
      in: part,
      path: issue.instancePath.replace(/^\//, '').replaceAll('/', '.'),
      message: issue.message ?? 'is invalid',
    }));
    return sendProblem(request, reply, {
      status: 400,
      code: 'VALIDATION_FAILED',
      title: 'Validation failed',
      detail: `The request has ${errors.length} invalid field${errors.length === 1 ? '' : 's'}.`,
      errors,
    });
  }
  const known = error.code ? fastifyErrors[error.code] : undefined;
  if (known) {
    return sendProblem(request, reply, { ...known, detail: error.message });
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500 && !isResponseSerializationError(error)) {
    return sendProblem(request, reply, {
      status,
      code: status === 429 ? 'RATE_LIMITED' : 'BAD_REQUEST',
      title: status === 429 ? 'Too Many Requests' : 'Bad Request',
      detail: error.message,
    });
  }
  request.log.error({ err: error }, 'request failed');
  return sendProblem(request, reply, {
    status: 500,
    code: 'INTERNAL',
    title: 'Internal Server Error',
    detail: 'An unexpected error occurred. Quote the request id when reporting it.',
  });
}

/**
 * Fastify's `frameworkErrors`: a path that is not valid percent-encoded UTF-8, or a parameter
 * longer than the router takes, fails before routing (so before the error handler and the hook
 * that sets the request id header). Rendered as every other error.
 */
export function renderFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  reply.header('x-request-id', request.id);
  return renderError(error, request, reply);
}

/**
 * Installs the error renderer, the 404/405 answers for requests no route takes, and the 415 for
 * bodies the API does not take.
 */
export const errorHandling = fp(
  async (app: FastifyInstance) => {
    const methods = createMethodIndex(app);

    app.setErrorHandler(renderError);
    // The API takes JSON. Fastify also parses text/plain into a string by default, which a body
    // schema then refuses as 400 VALIDATION_FAILED; without that parser it is 415 like any other
    // type. (Patreon's webhook route takes every type itself, as raw bytes.)
    app.removeContentTypeParser('text/plain');

    app.setNotFoundHandler((request, reply) => {
      const path = request.url.split('?', 1)[0] ?? '/';
      const allowed = methods.allowed(path);
      if (allowed.length > 0) {
        reply.header('allow', allowed.join(', '));
        return sendProblem(request, reply, {
          status: 405,
          code: 'METHOD_NOT_ALLOWED',
          title: 'Method Not Allowed',
          detail: `${request.method} is not allowed on this path; use ${allowed.join(', ')}.`,
        });
      }
      return sendProblem(request, reply, {
        status: 404,
        code: 'ROUTE_NOT_FOUND',
        title: 'Not Found',
        detail: `No route for ${request.method} ${path}.`,
      });
    });
  },
  { name: 'error-handling' },
);
