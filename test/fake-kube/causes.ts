// JSON-schema validation errors (ajv's, which kubernetes-models also produces) turned into the
// causes of a 422 Invalid Status, worded like kube-apiserver's OpenAPI validation:
// `spec.compressions[0]: Invalid value: 1.5: spec.compressions[0] in body should be less than or equal to 1`.
import type { Cause } from './store.ts';

/** The parts of an ajv ErrorObject that the mapping reads. */
export interface SchemaError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** `/spec/compressions/0` → `spec.compressions[0]`. */
export function fieldPath(instancePath: string): string {
  let out = '';
  for (const raw of instancePath.split('/').slice(1)) {
    const token = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    out += /^\d+$/.test(token) ? `[${token}]` : out ? `.${token}` : token;
  }
  return out;
}

const join = (path: string, child: string) => (path ? `${path}.${child}` : child);

function valueAt(object: unknown, instancePath: string): unknown {
  let node = object;
  for (const raw of instancePath.split('/').slice(1)) {
    const token = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    node = (node as Record<string, unknown> | undefined)?.[token];
  }
  return node;
}

const typeName = (value: unknown) =>
  value === null
    ? 'null'
    : Array.isArray(value)
      ? 'array'
      : Number.isInteger(value)
        ? 'integer'
        : typeof value;

/** Words kube-openapi uses for each failed keyword (after `<field> in body `). */
function wording(error: SchemaError): string {
  const p = error.params;
  switch (error.keyword) {
    case 'maximum':
      return `should be less than or equal to ${p.limit}`;
    case 'minimum':
      return `should be greater than or equal to ${p.limit}`;
    case 'exclusiveMaximum':
      return `should be less than ${p.limit}`;
    case 'exclusiveMinimum':
      return `should be greater than ${p.limit}`;
    case 'maxLength':
      return `should be at most ${p.limit} chars long`;
    case 'minLength':
      return `should be at least ${p.limit} chars long`;
    case 'maxItems':
      return `must have at most ${p.limit} items`;
    case 'minItems':
      return `should have at least ${p.limit} items`;
    case 'pattern':
      return `should match '${p.pattern}'`;
    case 'multipleOf':
      return `should be a multiple of ${p.multipleOf}`;
    case 'format':
      return `must be of type ${p.format}`;
    default:
      return error.message ?? `fails ${error.keyword}`;
  }
}

/** The causes for `errors` found in `object`, without duplicates. */
export function schemaCauses(errors: readonly SchemaError[], object: unknown): Cause[] {
  const causes = new Map<string, Cause>();
  for (const error of errors) {
    const field = fieldPath(error.instancePath);
    const value = valueAt(object, error.instancePath);
    let cause: Cause;
    if (error.keyword === 'required') {
      cause = {
        reason: 'FieldValueRequired',
        message: 'Required value',
        field: join(field, String(error.params.missingProperty)),
      };
    } else if (error.keyword === 'enum') {
      const allowed = (error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ');
      cause = {
        reason: 'FieldValueNotSupported',
        message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${allowed}`,
        field,
      };
    } else if (error.keyword === 'type') {
      cause = {
        reason: 'FieldValueTypeInvalid',
        message: `Invalid value: ${JSON.stringify(typeName(value))}: ${field} in body must be of type ${error.params.type}: ${JSON.stringify(typeName(value))}`,
        field,
      };
    } else if (error.keyword === 'uniqueItems') {
      cause = { reason: 'FieldValueDuplicate', message: `Duplicate value: ${JSON.stringify(value)}`, field };
    } else if (error.keyword === 'additionalProperties') {
      const extra = String(error.params.additionalProperty);
      cause = {
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${JSON.stringify(extra)}: field not declared in schema`,
        field: join(field, extra),
      };
    } else {
      cause = {
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${JSON.stringify(value)}: ${field || '<root>'} in body ${wording(error)}`,
        field,
      };
    }
    causes.set(`${cause.field}\n${cause.message}`, cause);
  }
  return [...causes.values()];
}
