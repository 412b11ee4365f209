// Validation of built-in objects as kube-apiserver does it, in two layers:
// 1. the official OpenAPI schema, through the maintained `kubernetes-models` classes (their
//    `validate()` from @kubernetes-models/validate): types, required fields, enums, formats;
// 2. the few rules the API server enforces in Go beyond the schema that a manifest of this project
//    can break (a container without an image, a Job pod that restarts Always, a label value over 63
//    characters...). These are listed here, each worded as the real server words it.
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Lease } from 'kubernetes-models/coordination.k8s.io/v1/Lease';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Event } from 'kubernetes-models/v1/Event';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Secret } from 'kubernetes-models/v1/Secret';
import { type SchemaError, schemaCauses } from './causes.ts';
import type { Cause, KubeObject } from './store.ts';

/** A kubernetes-models class: built from a plain object, `validate()` throws on a schema violation. */
export type Model = new (data: never) => { validate(): void };

const PRELOADED: Record<string, Model> = {
  'v1/Pod': Pod,
  'v1/Secret': Secret,
  'v1/ConfigMap': ConfigMap,
  'v1/Event': Event,
  'batch/v1/Job': Job,
  'coordination.k8s.io/v1/Lease': Lease,
  'apiextensions.k8s.io/v1/CustomResourceDefinition': CustomResourceDefinition,
};

/** The schema causes of `object` against `model` (empty when valid). */
export function modelCauses(model: Model, object: KubeObject): Cause[] {
  try {
    new model(structuredClone(object) as never).validate();
    return [];
  } catch (error) {
    const errors = (error as { errors?: SchemaError[] }).errors;
    if (!Array.isArray(errors)) throw error;
    return schemaCauses(errors, object);
  }
}

/**
 * The kubernetes-models class for `apiVersion`/`kind` (`apps/v1`, `Deployment`), or undefined when
 * the package has none (custom resources, removed APIs).
 */
export async function loadModel(apiVersion: string, kind: string): Promise<Model | undefined> {
  const known = PRELOADED[`${apiVersion}/${kind}`];
  if (known) return known;
  if (!/^[a-z0-9.-]+(\/v[0-9a-z]+)?$/.test(apiVersion) || !/^[A-Za-z0-9]+$/.test(kind)) return undefined;
  try {
    const module = (await import(`kubernetes-models/${apiVersion}/${kind}`)) as Record<string, unknown>;
    return typeof module[kind] === 'function' ? (module[kind] as Model) : undefined;
  } catch {
    return undefined;
  }
}

// ---- Rules beyond the schema (k8s.io/kubernetes/pkg/apis/*/validation) ----

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const required = (field: string): Cause => ({
  reason: 'FieldValueRequired',
  message: 'Required value',
  field,
});
const invalidValue = (field: string, value: unknown, why: string): Cause => ({
  reason: 'FieldValueInvalid',
  message: `Invalid value: ${JSON.stringify(value)}: ${why}`,
  field,
});

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function labelCauses(labels: unknown, field: string): Cause[] {
  if (!isObject(labels)) return [];
  const causes: Cause[] = [];
  for (const [key, value] of Object.entries(labels)) {
    const [prefix, name] = key.includes('/') ? key.split('/', 2) : [undefined, key];
    if (
      !QUALIFIED_NAME.test(name) ||
      name.length > 63 ||
      (prefix !== undefined && (prefix.length > 253 || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(prefix)))
    ) {
      causes.push(
        invalidValue(
          field,
          key,
          "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        ),
      );
    }
    if (typeof value !== 'string') continue;
    if (value.length > 63) causes.push(invalidValue(`${field}`, value, 'must be no more than 63 characters'));
    else if (!LABEL_VALUE.test(value)) {
      causes.push(
        invalidValue(
          field,
          value,
          "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        ),
      );
    }
  }
  return causes;
}

function podSpecCauses(spec: unknown, field: string, job: boolean): Cause[] {
  if (!isObject(spec)) return [required(field)];
  const causes: Cause[] = [];
  const containers = Array.isArray(spec.containers) ? spec.containers : [];
  if (!containers.length) causes.push(required(`${field}.containers`));
  const names = new Set<string>();
  const all = [
    ...containers.map((c, k) => [c, `${field}.containers[${k}]`] as const),
    ...(Array.isArray(spec.initContainers) ? spec.initContainers : []).map(
      (c, k) => [c, `${field}.initContainers[${k}]`] as const,
    ),
  ];
  for (const [container, path] of all) {
    if (!isObject(container)) continue;
    const name = container.name;
    if (typeof name === 'string') {
      if (!DNS_LABEL.test(name) || name.length > 63) {
        causes.push(
          invalidValue(
            `${path}.name`,
            name,
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
          ),
        );
      }
      if (names.has(name))
        causes.push({
          reason: 'FieldValueDuplicate',
          message: `Duplicate value: ${JSON.stringify(name)}`,
          field: `${path}.name`,
        });
      names.add(name);
    }
    if (typeof container.image !== 'string' || !container.image.trim())
      causes.push(required(`${path}.image`));
    (Array.isArray(container.env) ? container.env : []).forEach((variable, k) => {
      const envName = isObject(variable) ? variable.name : undefined;
      if (typeof envName === 'string' && !ENV_NAME.test(envName)) {
        causes.push(
          invalidValue(
            `${path}.env[${k}].name`,
            envName,
            "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit",
          ),
        );
      }
    });
  }
  if (job && spec.restartPolicy !== 'Never' && spec.restartPolicy !== 'OnFailure') {
    causes.push(
      spec.restartPolicy === undefined
        ? {
            reason: 'FieldValueRequired',
            message: 'Required value: valid values: "OnFailure", "Never"',
            field: `${field}.restartPolicy`,
          }
        : {
            reason: 'FieldValueNotSupported',
            message: `Unsupported value: ${JSON.stringify(spec.restartPolicy)}: supported values: "OnFailure", "Never"`,
            field: `${field}.restartPolicy`,
          },
    );
  }
  return causes;
}

function nonNegative(
  spec: Record<string, unknown>,
  key: string,
  field: string,
  strictlyPositive = false,
): Cause[] {
  const value = spec[key];
  if (typeof value !== 'number') return [];
  if (strictlyPositive ? value > 0 : value >= 0) return [];
  return [
    invalidValue(
      `${field}.${key}`,
      value,
      strictlyPositive ? 'must be greater than zero' : 'must be greater than or equal to 0',
    ),
  ];
}

/** The rules beyond the schema for one object, by kind. */
export function ruleCauses(object: KubeObject): Cause[] {
  const causes = labelCauses(object.metadata?.labels, 'metadata.labels');
  const spec = isObject(object.spec) ? object.spec : {};
  switch (object.kind) {
    case 'Job': {
      if (object.metadata?.name && object.metadata.name.length > 63) {
        causes.push(
          invalidValue('metadata.name', object.metadata.name, 'must be no more than 63 characters'),
        );
      }
      const template = isObject(spec.template) ? spec.template : {};
      causes.push(
        ...labelCauses(
          isObject(template.metadata) ? template.metadata.labels : undefined,
          'spec.template.metadata.labels',
        ),
      );
      causes.push(...podSpecCauses(template.spec, 'spec.template.spec', true));
      causes.push(...nonNegative(spec, 'backoffLimit', 'spec'));
      causes.push(...nonNegative(spec, 'activeDeadlineSeconds', 'spec', true));
      causes.push(...nonNegative(spec, 'ttlSecondsAfterFinished', 'spec'));
      const templateSpec = isObject(template.spec) ? template.spec : {};
      if (spec.podFailurePolicy && templateSpec.restartPolicy !== 'Never') {
        causes.push(
          invalidValue(
            'spec.template.spec.restartPolicy',
            templateSpec.restartPolicy,
            'only "Never" is supported when podFailurePolicy is specified',
          ),
        );
      }
      break;
    }
    case 'Pod':
      causes.push(...podSpecCauses(object.spec, 'spec', false));
      break;
    case 'Secret':
    case 'ConfigMap':
      for (const [key, value] of Object.entries(isObject(object.data) ? object.data : {})) {
        if (!CONFIG_KEY.test(key))
          causes.push(
            invalidValue(
              `data[${key}]`,
              key,
              "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
            ),
          );
        if (object.kind === 'Secret' && typeof value === 'string' && !BASE64.test(value)) {
          causes.push(invalidValue(`data[${key}]`, '<secret contents redacted>', 'illegal base64 data'));
        }
      }
      break;
    case 'Lease':
      causes.push(...nonNegative(spec, 'leaseDurationSeconds', 'spec', true));
      break;
  }
  return causes;
}

/** Changes the API server refuses on update (immutable fields), by kind. */
export function updateCauses(next: KubeObject, old: KubeObject): Cause[] {
  if (next.kind !== 'Job') return [];
  const nextSpec = isObject(next.spec) ? next.spec : {};
  const oldSpec = isObject(old.spec) ? old.spec : {};
  const causes: Cause[] = [];
  const same = (key: string) => JSON.stringify(nextSpec[key]) === JSON.stringify(oldSpec[key]);
  // A suspended Job may still have its pod template's scheduling directives changed (Kueue does);
  // this fake lets a suspended Job's template change as a whole.
  if (!same('template') && oldSpec.suspend !== true) {
    causes.push(invalidValue('spec.template', '<template>', 'field is immutable'));
  }
  for (const key of ['completions', 'selector', 'completionMode', 'podFailurePolicy']) {
    if (!same(key)) causes.push(invalidValue(`spec.${key}`, nextSpec[key] ?? null, 'field is immutable'));
  }
  return causes;
}

/** Both layers for `object`, validated against `model`. */
export function builtinCauses(model: Model, object: KubeObject): Cause[] {
  const causes = modelCauses(model, object);
  // One complaint per field: a rule adds nothing where the schema already refused the value.
  const fields = new Set(causes.map((c) => c.field));
  for (const cause of ruleCauses(object)) {
    if (fields.has(cause.field)) continue;
    fields.add(cause.field);
    causes.push(cause);
  }
  return causes;
}

/** The validator of a built-in served type (the model is always preloaded for those). */
export function builtinValidator(apiVersion: string, kind: string): (object: KubeObject) => Cause[] {
  const model = PRELOADED[`${apiVersion}/${kind}`];
  if (!model) throw new Error(`no preloaded model for ${apiVersion} ${kind}`);
  return (object) => builtinCauses(model, object);
}
