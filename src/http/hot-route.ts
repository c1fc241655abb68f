import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';

/**
 * Compilers for the hottest routes (webhook ingest, entitlements), where zod's encode and parse
 * were a measurable share of each request. Each keeps the route's zod schema as the contract and
 * for the API document; only the common case skips zod at run time.
 */

/**
 * A route serializer compiler: 200 answers through `serialize`, every other status (problems)
 * through the app's zod serializer.
 */
export function okThrough<T>(serialize: (value: T) => string) {
  // Fastify types `schema` as the route's whole schema; at run time it is the response schema of
  // that status, which is what the zod serializer takes.
  return <R extends { httpStatus?: string | undefined }>(route: R) =>
    route.httpStatus === '200' ? serialize : serializerCompiler(route as never);
}

/**
 * A route validator compiler: input that `plainlyValid` accepts is passed on as it is; anything
 * else goes through the app's zod validator, so a refusal reads exactly as on every other route.
 * `plainlyValid` must accept only input that the route's schema passes unchanged.
 */
export function plainFirst(plainlyValid: (data: unknown) => boolean) {
  return <R>(route: R) => {
    const zod = validatorCompiler(route as never);
    return (data: unknown) => (plainlyValid(data) ? { value: data } : zod(data));
  };
}
