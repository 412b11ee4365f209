// The Sweep CRD: its schema is structural (what the API server accepts), and it agrees with the sweep
// file's zod validation on a table of specs: no valid sweep file is refused by the API, and every
// invalid one is refused by the API or, where a structural schema cannot say it, by the controller
// (zod), which names the field in the `Invalid` condition.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { InputError } from '../../common/errors.ts';
import { PROJECT_ROOT } from '../project-root.ts';
import { type SchemaNode, sweepCrd, sweepSpecSchema } from './crd.ts';
import { planOfObject, SWEEP_GROUP, SWEEP_PLURAL } from './resource.ts';

/**
 * OpenAPI v3 (as the CRD holds it) to JSON Schema for ajv, as an API server applies it under strict
 * field validation (kubectl's default and esweep's): unknown fields refused in every object that
 * lists its properties, nodes that preserve unknown fields taken as they are.
 */
function forAjv(node: SchemaNode): SchemaNode {
  const out: SchemaNode = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('x-kubernetes-') || key === 'description') continue;
    if (key === 'properties')
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, SchemaNode>).map(([k, v]) => [k, forAjv(v)]),
      );
    else if (key === 'items' || key === 'additionalProperties') out[key] = forAjv(value as SchemaNode);
    else if (key === 'oneOf' || key === 'anyOf') out[key] = (value as SchemaNode[]).map(forAjv);
    else if (key === 'not') out.not = forAjv(value as SchemaNode);
    else out[key] = value;
  }
  if (node.type === 'object' && node.properties && !node.additionalProperties)
    out.additionalProperties = false;
  return out;
}

/** Kubernetes' structural-schema rules, the ones a generated schema could break. */
function structuralProblems(node: SchemaNode, path = 'spec', inJunctor = false): string[] {
  const problems: string[] = [];
  const untyped =
    node['x-kubernetes-preserve-unknown-fields'] === true || node['x-kubernetes-int-or-string'] === true;
  if (!inJunctor && node.type === undefined && !untyped) problems.push(`${path}: no type`);
  for (const key of ['$ref', '$schema', 'definitions', '$defs', 'propertyNames', 'const'])
    if (key in node) problems.push(`${path}: ${key} is not allowed`);
  if (node.additionalProperties === false) problems.push(`${path}: additionalProperties: false`);
  if (node.properties && node.additionalProperties)
    problems.push(`${path}: properties and additionalProperties`);
  // Kubernetes reads them as booleans, JSON Schema validators as numbers: neither form is safe.
  for (const key of ['exclusiveMinimum', 'exclusiveMaximum'])
    if (key in node) problems.push(`${path}: ${key} is read differently by Kubernetes and JSON Schema`);
  if (node.not) problems.push(...structuralProblems(node.not as SchemaNode, `${path}.not`, true));
  if (inJunctor)
    for (const key of ['type', 'default', 'description', 'additionalProperties', 'nullable'])
      if (key in node) problems.push(`${path}: ${key} inside anyOf/oneOf`);
  if (node.type === 'array' && !node.items) problems.push(`${path}: array without items`);
  for (const [name, child] of Object.entries((node.properties ?? {}) as Record<string, SchemaNode>))
    problems.push(...structuralProblems(child, `${path}.${name}`, inJunctor));
  if (node.items) problems.push(...structuralProblems(node.items as SchemaNode, `${path}[]`, inJunctor));
  if (typeof node.additionalProperties === 'object')
    problems.push(...structuralProblems(node.additionalProperties as SchemaNode, `${path}{}`, inJunctor));
  for (const key of ['anyOf', 'oneOf', 'allOf'])
    for (const branch of (node[key] ?? []) as SchemaNode[])
      problems.push(...structuralProblems(branch, `${path}.${key}`, true));
  return problems;
}

const validateSpec = new Ajv({ strict: false, allErrors: true }).compile(forAjv(sweepSpecSchema()));

/** What the API server says about a spec: null if it accepts it, else the failing field. */
function apiVerdict(spec: unknown): string | null {
  if (validateSpec(spec)) return null;
  const error = validateSpec.errors![0];
  return `${error.instancePath} ${error.message}`;
}

/** What the CLI and the controller say: null if valid, else the message (naming the field). */
function zodVerdict(spec: Record<string, unknown>): string | null {
  try {
    planOfObject({ metadata: { name: 'table' }, spec });
    return null;
  } catch (error) {
    if (error instanceof InputError) return error.message;
    throw error;
  }
}

const BASE = {
  name: 'table',
  architectures: ['lenet300100'],
  pruners: ['snip'],
  compressions: [10, 100],
  budget: { iterations: 20 },
};

/** `api`: the API server refuses it too (else only the controller's zod validation does). */
const INVALID: { what: string; spec: Record<string, unknown>; field: RegExp; api: boolean }[] = [
  { what: 'unknown pruner', spec: { ...BASE, pruners: ['snipp'] }, field: /pruners\[0\]/, api: true },
  {
    what: 'unknown architecture',
    spec: { ...BASE, architectures: ['vgg17'] },
    field: /architectures\[0\]/,
    api: true,
  },
  { what: 'no pruners', spec: { ...BASE, pruners: [] }, field: /pruners/, api: true },
  {
    what: 'pruners missing',
    spec: { name: 'table', architectures: ['lenet5'] },
    field: /pruners/,
    api: true,
  },
  { what: 'unknown type', spec: { ...BASE, types: ['indirect'] }, field: /types\[0\]/, api: true },
  { what: 'unknown field', spec: { ...BASE, prunerz: ['snip'] }, field: /prunerz/, api: true },
  { what: 'unknown resources field', spec: { ...BASE, resources: { tpu: 1 } }, field: /tpu/, api: true },
  {
    what: 'sparsity 1',
    spec: { ...BASE, compressions: undefined, sparsities: [0.5, 1] },
    field: /sparsities\[1\]/,
    api: true,
  },
  {
    what: 'negative sparsity',
    spec: { ...BASE, compressions: undefined, sparsities: [-0.1] },
    field: /sparsities\[0\]/,
    api: true,
  },
  {
    what: 'budget with both',
    spec: { ...BASE, budget: { iterations: 5, epochs: 1 } },
    field: /budget/,
    api: true,
  },
  { what: 'zero iterations', spec: { ...BASE, budget: { iterations: 0 } }, field: /budget/, api: true },
  {
    what: 'fractional iterations',
    spec: { ...BASE, budget: { iterations: 1.5 } },
    field: /budget/,
    api: true,
  },
  { what: 'zero epochs', spec: { ...BASE, budget: { epochs: 0 } }, field: /budget/, api: true },
  { what: 'retries 101', spec: { ...BASE, retries: 101 }, field: /retries/, api: true },
  { what: 'maxParallel 0', spec: { ...BASE, maxParallel: 0 }, field: /maxParallel/, api: true },
  { what: 'negative gpu', spec: { ...BASE, resources: { gpu: -1 } }, field: /resources\.gpu/, api: true },
  {
    what: 'architectures a string',
    spec: { ...BASE, architectures: 'lenet5' },
    field: /architectures/,
    api: true,
  },
  { what: 'bad name', spec: { ...BASE, name: '-table' }, field: /name/, api: true },
  // A structural schema cannot type a value of several types (list or range, list or count, name or map):
  {
    what: 'compression below 1',
    spec: { ...BASE, compressions: [0.5] },
    field: /compressions\[0\]/,
    api: false,
  },
  {
    what: 'range without points',
    spec: { ...BASE, compressions: { from: 10, to: 100 } },
    field: /compressions/,
    api: false,
  },
  { what: 'compressions a string', spec: { ...BASE, compressions: '10' }, field: /compressions/, api: false },
  { what: 'negative seed', spec: { ...BASE, seeds: [-1] }, field: /seeds/, api: false },
  { what: 'unknown dataset', spec: { ...BASE, dataset: 'imagenet' }, field: /dataset/, api: false },
  {
    what: 'not a quantity',
    spec: { ...BASE, resources: { cpu: 'lots' } },
    field: /resources\.cpu/,
    api: false,
  },
  // Checks that relate fields, or bounds that only a refinement states:
  {
    what: 'compressions and sparsities',
    spec: { ...BASE, sparsities: [0.5] },
    field: /compressions/,
    api: false,
  },
  { what: 'no targets', spec: { ...BASE, compressions: undefined }, field: /compressions/, api: false },
  {
    what: 'uniform_plus on an MLP',
    spec: { ...BASE, pruners: ['random/uniform_plus'] },
    field: /pruners\[0\]/,
    api: false,
  },
  {
    what: 'iterations above the limit',
    spec: { ...BASE, budget: { iterations: 1e9 } },
    field: /budget\.iterations/,
    api: false,
  },
];

const VALID: { what: string; spec: Record<string, unknown> }[] = [
  { what: 'minimal', spec: BASE },
  { what: 'name left out (the object names it)', spec: { ...BASE, name: undefined } },
  { what: 'dense only, no targets', spec: { ...BASE, pruners: ['dense'], compressions: undefined } },
  { what: 'log range', spec: { ...BASE, compressions: { from: 10, to: 1000, points: 5 } } },
  { what: 'sparsities', spec: { ...BASE, compressions: undefined, sparsities: [0, 0.9, 0.99] } },
  { what: 'seed count', spec: { ...BASE, seeds: 3 } },
  { what: 'seed list', spec: { ...BASE, seeds: [0, 7] } },
  { what: 'epochs', spec: { ...BASE, budget: { epochs: 0.5 } } },
  { what: 'resources', spec: { ...BASE, resources: { gpu: 0, cpu: '500m', memory: '2Gi' } } },
  { what: 'numeric cpu', spec: { ...BASE, resources: { gpu: 1, cpu: 0.5 } } },
  { what: 'dataset map', spec: { ...BASE, dataset: { lenet300100: 'fashion-mnist' } } },
  { what: 'everything', spec: { ...BASE, types: ['direct', 'effective'], maxParallel: 4, retries: 0 } },
];

const strip = (spec: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined));

describe('the Sweep CRD', () => {
  test('is a structural schema with the status subresource and the printer columns', () => {
    const crd = sweepCrd();
    assert.equal(crd.metadata.name, `${SWEEP_PLURAL}.${SWEEP_GROUP}`);
    const [version] = crd.spec.versions;
    const root = version.schema.openAPIV3Schema as SchemaNode;
    assert.deepEqual(structuralProblems(root, 'root'), []);
    assert.deepEqual(version.subresources, { status: {} });
    assert.deepEqual(
      version.additionalPrinterColumns.map((c) => `${c.name}=${c.jsonPath}`),
      [
        'Phase=.status.phase',
        'Done=.status.progress',
        'Running=.status.counts.running',
        'Failed=.status.counts.failed',
        'Age=.metadata.creationTimestamp',
      ],
    );
    // Defaults stay the controller's: the object keeps the spec as written.
    assert.doesNotMatch(JSON.stringify(root), /"default"/);
  });

  test('the structural check catches what Kubernetes refuses', () => {
    assert.deepEqual(
      structuralProblems({
        type: 'object',
        properties: { a: { anyOf: [{ type: 'string' }, { type: 'number' }] }, b: { $ref: '#/x' } },
        additionalProperties: false,
      }),
      [
        'spec: additionalProperties: false',
        'spec.a: no type',
        'spec.a.anyOf: type inside anyOf/oneOf',
        'spec.a.anyOf: type inside anyOf/oneOf',
        'spec.b: no type',
        'spec.b: $ref is not allowed',
      ],
    );
  });

  for (const { what, spec } of VALID) {
    test(`accepts what the CLI accepts: ${what}`, () => {
      const s = strip(spec);
      assert.equal(zodVerdict(s), null);
      assert.equal(apiVerdict(s), null);
    });
  }

  for (const { what, spec, field, api } of INVALID) {
    test(`refuses what the CLI refuses: ${what} (${api ? 'API server' : 'controller'})`, () => {
      const s = strip(spec);
      const zod = zodVerdict(s);
      assert.ok(zod, 'the CLI refuses it');
      assert.match(zod, field, 'the message names the field');
      const verdict = apiVerdict(s);
      if (api) assert.ok(verdict, 'the API server refuses it');
      else assert.equal(verdict, null, 'the API server cannot say it: the controller does (Invalid)');
    });
  }

  test('every example sweep file is accepted by both', async () => {
    const dir = join(PROJECT_ROOT, 'examples');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.length >= 2);
    for (const file of files) {
      const spec = parse(await readFile(join(dir, file), 'utf8'));
      assert.equal(apiVerdict(spec), null, file);
      assert.equal(zodVerdict({ ...spec, name: 'table' }), null, file);
    }
  });
});
