// CustomResourceDefinitions (apiextensions.k8s.io/v1): a CRD object becomes a served resource type
// whose objects are pruned of unknown fields, defaulted and validated against the version's
// openAPIV3Schema (with ajv), as kube-apiserver does for structural schemas. Not evaluated:
// x-kubernetes-validations (CEL rules), conversion webhooks, x-kubernetes-list-type semantics.
import { Ajv, type ValidateFunction } from 'ajv';
import { schemaCauses } from './causes.ts';
import type { PrinterColumn, ResourceType } from './registry.ts';
import type { Cause, KubeObject } from './store.ts';

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  default?: unknown;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  [keyword: string]: unknown;
}

interface CrdVersion {
  name: string;
  served?: boolean;
  storage?: boolean;
  schema?: { openAPIV3Schema?: Schema };
  subresources?: { status?: object; scale?: object };
  additionalPrinterColumns?: PrinterColumn[];
}

interface CrdSpec {
  group?: string;
  scope?: string;
  names?: { plural?: string; singular?: string; kind?: string; listKind?: string; shortNames?: string[] };
  versions?: CrdVersion[];
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

function schemaCompiler(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, logger: false });
  ajv.addFormat('date-time', RFC3339);
  ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
  ajv.addFormat('byte', /^[A-Za-z0-9+/]*={0,2}$/);
  for (const numeric of ['int32', 'int64', 'float', 'double']) ajv.addFormat(numeric, true);
  ajv.addKeyword({
    keyword: 'x-kubernetes-int-or-string',
    schemaType: 'boolean',
    validate: (on: boolean, data: unknown) => !on || Number.isInteger(data) || typeof data === 'string',
    errors: false,
  });
  return ajv;
}

const ajv = schemaCompiler();

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Drops fields the schema does not declare (unless it preserves unknown fields) and fills in
 * `default`s, in place. At the root (and in embedded resources) apiVersion, kind and metadata stay.
 */
function pruneAndDefault(value: unknown, schema: Schema | undefined, root: boolean): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    for (const item of value) pruneAndDefault(item, schema.items, false);
    return;
  }
  if (!isObject(value)) return;
  const keepsMeta = root || schema['x-kubernetes-embedded-resource'] === true;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  const additional = schema.additionalProperties;
  for (const key of Object.keys(value)) {
    if (keepsMeta && (key === 'apiVersion' || key === 'kind' || key === 'metadata')) continue;
    const declared = schema.properties?.[key] ?? (isObject(additional) ? (additional as Schema) : undefined);
    if (declared) pruneAndDefault(value[key], declared, false);
    else if (!preserve && additional !== true) delete value[key];
  }
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    if (value[key] === undefined && property.default !== undefined)
      value[key] = structuredClone(property.default);
  }
}

const invalid = (field: string, message: string, reason = 'FieldValueInvalid'): Cause => ({
  reason,
  message,
  field,
});

/** What kube-apiserver checks of a CRD itself before serving it (the parts this fake relies on). */
export function validateCrd(crd: KubeObject): Cause[] {
  const spec = (crd.spec ?? {}) as CrdSpec;
  const causes: Cause[] = [];
  if (!spec.group) causes.push(invalid('spec.group', 'Required value', 'FieldValueRequired'));
  if (!spec.names?.plural) causes.push(invalid('spec.names.plural', 'Required value', 'FieldValueRequired'));
  if (!spec.names?.kind) causes.push(invalid('spec.names.kind', 'Required value', 'FieldValueRequired'));
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') {
    causes.push(
      invalid(
        'spec.scope',
        `Unsupported value: ${JSON.stringify(spec.scope ?? '')}: supported values: "Cluster", "Namespaced"`,
        'FieldValueNotSupported',
      ),
    );
  }
  if (spec.group && spec.names?.plural && crd.metadata.name !== `${spec.names.plural}.${spec.group}`) {
    causes.push(
      invalid(
        'metadata.name',
        `Invalid value: ${JSON.stringify(crd.metadata.name)}: must be spec.names.plural+"."+spec.group`,
      ),
    );
  }
  const versions = spec.versions ?? [];
  if (!versions.length)
    causes.push(
      invalid(
        'spec.versions',
        'Invalid value: null: must have exactly one version marked as storage version',
      ),
    );
  else if (versions.filter((v) => v.storage).length !== 1) {
    causes.push(
      invalid('spec.versions', 'Invalid value: must have exactly one version marked as storage version'),
    );
  }
  versions.forEach((version, k) => {
    const schema = version.schema?.openAPIV3Schema;
    if (!schema) {
      causes.push(
        invalid(
          `spec.versions[${k}].schema.openAPIV3Schema`,
          'Required value: schemas are required',
          'FieldValueRequired',
        ),
      );
      return;
    }
    try {
      ajv.compile(schema);
    } catch (error) {
      causes.push(
        invalid(
          `spec.versions[${k}].schema.openAPIV3Schema`,
          `Invalid value: ${String((error as Error).message)}`,
        ),
      );
    }
  });
  return causes;
}

/** The served type a (valid) CRD defines. */
export function customResourceType(crd: KubeObject): ResourceType {
  const spec = crd.spec as CrdSpec;
  const names = spec.names!;
  const versions = (spec.versions ?? []).filter((v) => v.served !== false);
  const storage = versions.find((v) => v.storage) ?? versions[0];
  const ordered = [storage, ...versions.filter((v) => v !== storage)];
  const validators = new Map<string, { schema: Schema; validate: ValidateFunction }>();
  for (const version of ordered) {
    const schema = version.schema!.openAPIV3Schema!;
    validators.set(version.name, { schema, validate: ajv.compile(schema) });
  }
  return {
    key: crd.metadata.name,
    group: spec.group!,
    versions: ordered.map((v) => v.name),
    resource: names.plural!,
    singular: names.singular ?? names.kind!.toLowerCase(),
    kind: names.kind!,
    namespaced: spec.scope === 'Namespaced',
    shortNames: names.shortNames,
    statusSubresource: Boolean(storage.subresources?.status),
    defaultPropagation: 'Background',
    requireResourceVersionOnUpdate: true,
    printerColumns: storage.additionalPrinterColumns ?? [],
    definedBy: crd.metadata.name,
    validate: (object, version) => {
      const entry = validators.get(version) ?? validators.get(storage.name)!;
      pruneAndDefault(object, entry.schema, true);
      if (entry.validate(object)) return [];
      return schemaCauses(entry.validate.errors ?? [], object);
    },
  };
}

/** The status kube-apiserver gives a CRD it serves. */
export function establishedStatus(crd: KubeObject): unknown {
  const spec = crd.spec as CrdSpec;
  const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const condition = (type: string, reason: string, message: string) => ({
    type,
    status: 'True',
    lastTransitionTime: time,
    reason,
    message,
  });
  return {
    acceptedNames: spec.names,
    storedVersions: (spec.versions ?? []).filter((v) => v.storage).map((v) => v.name),
    conditions: [
      condition('NamesAccepted', 'NoConflicts', 'no conflicts found'),
      condition('Established', 'InitialNamesAccepted', 'the initial names have been accepted'),
    ],
  };
}
