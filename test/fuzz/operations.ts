import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** The part of JSON Schema our API document uses for inputs. */
export type Schema = {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  anyOf?: Schema[];
  default?: unknown;
  example?: unknown;
};

export type Parameter = { name: string; in: 'path' | 'query'; required: boolean; schema: Schema };

export type Operation = {
  operationId: string;
  method: string;
  /** The document's template, e.g. `/v1/campaigns/{id}/members`. */
  path: string;
  parameters: Parameter[];
  body?: { required: boolean; schema: Schema };
  /** Needs the service API key (the document's default security). */
  apiKey: boolean;
  /** Content types the document declares per status, e.g. `{ '400': ['text/html'] }`. */
  responses: Record<string, string[]>;
};

type Document = {
  security?: unknown[];
  paths: Record<string, Record<string, OperationObject>>;
  components: { schemas: Record<string, Schema> };
};
type OperationObject = {
  operationId: string;
  security?: unknown[];
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, unknown> }>;
};

/** Every operation of `openapi.yaml`, with `$ref`s to component schemas resolved. */
export function readOperations(file: string): Operation[] {
  const doc = parse(readFileSync(file, 'utf8')) as Document;
  const resolve = (schema: Schema): Schema => {
    if (schema.$ref) {
      const name = schema.$ref.replace('#/components/schemas/', '');
      return resolve(doc.components.schemas[name] as Schema);
    }
    const out: Schema = { ...schema };
    if (schema.items) out.items = resolve(schema.items);
    if (schema.anyOf) out.anyOf = schema.anyOf.map(resolve);
    if (schema.properties) {
      out.properties = Object.fromEntries(
        Object.entries(schema.properties).map(([k, v]) => [k, resolve(v)]),
      );
    }
    return out;
  };
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const json = op.requestBody?.content['application/json'];
      operations.push({
        operationId: op.operationId,
        method: method.toUpperCase(),
        path,
        parameters: (op.parameters ?? []).map((p) => ({ ...p, schema: resolve(p.schema) })),
        body: json && { required: op.requestBody?.required ?? false, schema: resolve(json.schema) },
        apiKey: (op.security ?? doc.security ?? []).length > 0,
        responses: Object.fromEntries(
          Object.entries(op.responses).map(([status, r]) => [status, Object.keys(r.content ?? {})]),
        ),
      });
    }
  }
  return operations;
}

const lengthOk = (schema: Schema, value: string) =>
  (schema.minLength === undefined || [...value].length >= schema.minLength) &&
  (schema.maxLength === undefined || value.length <= schema.maxLength);

/** Besides its schema, the service refuses U+0000 in any text: Postgres cannot store it. */
function stringOk(schema: Schema, value: string): boolean {
  if (value.includes('\u0000')) return false;
  if (schema.enum) return schema.enum.includes(value);
  return lengthOk(schema, value) && (!schema.pattern || new RegExp(schema.pattern).test(value));
}

const inRange = (schema: Schema, n: number) =>
  (schema.minimum === undefined || n >= schema.minimum) &&
  (schema.maximum === undefined || n <= schema.maximum);

/**
 * Whether a query or path value (as it arrives, after URL decoding) satisfies its schema. Integer
 * query values are coerced with `Number()` before validation, as the service's schemas do.
 */
export function acceptsParameter(schema: Schema, value: string | string[]): boolean {
  if (Array.isArray(value)) return false;
  if (schema.type === 'integer') {
    const n = Number(value);
    return Number.isSafeInteger(n) && inRange(schema, n);
  }
  return stringOk(schema, value);
}

/** Whether a parsed JSON body value satisfies its schema (properties not listed are ignored). */
export function acceptsJson(schema: Schema, value: unknown): boolean {
  if (schema.anyOf) return schema.anyOf.some((s) => acceptsJson(s, value));
  switch (schema.type) {
    case 'null':
      return value === null;
    case 'string':
      return typeof value === 'string' && stringOk(schema, value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value) && inRange(schema, value);
    case 'array':
      return (
        Array.isArray(value) &&
        (schema.maxItems === undefined || value.length <= schema.maxItems) &&
        value.every((item) => !schema.items || acceptsJson(schema.items, item))
      );
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
      const record = value as Record<string, unknown>;
      return (
        (schema.required ?? []).every((key) => record[key] !== undefined) &&
        Object.entries(schema.properties ?? {}).every(
          ([key, s]) => record[key] === undefined || acceptsJson(s, record[key]),
        )
      );
    }
    default:
      return true;
  }
}
