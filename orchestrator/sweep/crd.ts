// The Sweep CustomResourceDefinition, generated from the zod schemas (the sweep file's in spec.ts, the
// status's in resource.ts), so the API server and the CLI check one definition. zod gives JSON Schema
// (draft 2020-12); Kubernetes wants a *structural* OpenAPI v3 schema: a `type` on every node, no
// `$ref`, no `additionalProperties: false` (unknown fields are pruned, or refused with strict field
// validation, which kubectl and esweep ask for), no numeric `exclusiveMinimum`, and no `type` inside
// `anyOf`/`oneOf`. A union of different types therefore becomes an untyped node that keeps what it is
// given (`x-kubernetes-preserve-unknown-fields`); the controller's zod validation checks it and says
// what is wrong in the `Invalid` condition.
import { z } from 'zod';
import {
  SWEEP_GROUP,
  SWEEP_KIND,
  SWEEP_PHASES,
  SWEEP_PLURAL,
  SWEEP_VERSION,
  sweepStatusSchema,
} from './resource.ts';
import { sweepFileSchema } from './spec.ts';

/** A node of OpenAPI v3 / JSON Schema (a plain JSON object). */
export type SchemaNode = { [key: string]: unknown };

const UNION_NOTE = 'checked by the controller (a value of one of several types)';

/** One JSON Schema node as a structural OpenAPI v3 node. */
export function structural(node: SchemaNode): SchemaNode {
  if (Array.isArray(node.anyOf) || Array.isArray(node.oneOf)) {
    return union((node.anyOf ?? node.oneOf) as SchemaNode[], node);
  }
  const out: SchemaNode = {};
  for (const [key, value] of Object.entries(node)) {
    switch (key) {
      // Defaults are the controller's (zod applies them): the object keeps the spec as written.
      case '$schema':
      case 'default':
      case 'propertyNames':
        break;
      case 'properties':
        out.properties = Object.fromEntries(
          Object.entries(value as Record<string, SchemaNode>).map(([name, child]) => [
            name,
            structural(child),
          ]),
        );
        break;
      case 'items':
        out.items = structural(value as SchemaNode);
        break;
      case 'additionalProperties':
        if (typeof value === 'object' && value !== null)
          out.additionalProperties = structural(value as SchemaNode);
        break;
      // OpenAPI v3.0's boolean exclusive bounds are read differently by JSON Schema validators (ajv
      // refuses them); an inclusive bound with the end value excluded means the same to both.
      case 'exclusiveMinimum':
      case 'exclusiveMaximum': {
        out[key === 'exclusiveMinimum' ? 'minimum' : 'maximum'] = value;
        const excluded = ((out.not as SchemaNode | undefined)?.enum as unknown[] | undefined) ?? [];
        out.not = { enum: [...excluded, value] };
        break;
      }
      case 'maximum':
      case 'minimum':
        // zod's safe-integer bounds say nothing a user needs to read.
        if (Math.abs(value as number) !== Number.MAX_SAFE_INTEGER) out[key] = value;
        break;
      default:
        out[key] = value;
    }
  }
  return out;
}

/**
 * A union: objects merge into one object whose branches differ only in which fields they require
 * (`oneOf` of `required`, which a structural schema allows); anything else becomes an untyped node.
 */
function union(branches: SchemaNode[], node: SchemaNode): SchemaNode {
  const described = typeof node.description === 'string' ? node.description : UNION_NOTE;
  const objects = branches.every((b) => b.type === 'object' && b.properties && !b.additionalProperties);
  if (objects) {
    const properties: Record<string, SchemaNode> = {};
    for (const branch of branches)
      for (const [name, child] of Object.entries(branch.properties as Record<string, SchemaNode>))
        properties[name] = structural(child);
    return {
      type: 'object',
      ...(typeof node.description === 'string' ? { description: node.description } : {}),
      properties,
      oneOf: branches.map((b) => ({ required: (b.required as string[] | undefined) ?? [] })),
    };
  }
  return { description: described, 'x-kubernetes-preserve-unknown-fields': true };
}

/** The spec's schema: the sweep file, except that `name` may be left out (the object's name is used). */
export function sweepSpecSchema(): SchemaNode {
  const spec = structural(z.toJSONSchema(sweepFileSchema, { io: 'input' }) as SchemaNode);
  spec.required = (spec.required as string[]).filter((field) => field !== 'name');
  spec.description = 'The sweep file (docs/sweep-file.md); name defaults to metadata.name and must equal it.';
  return spec;
}

export function sweepStatusOpenApi(): SchemaNode {
  return structural(z.toJSONSchema(sweepStatusSchema, { io: 'input' }) as SchemaNode);
}

const column = (name: string, jsonPath: string, type = 'string', description?: string) => ({
  name,
  type,
  jsonPath,
  ...(description ? { description } : {}),
});

/** The whole CustomResourceDefinition (apiextensions.k8s.io/v1), as a plain manifest. */
export function sweepCrd() {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${SWEEP_PLURAL}.${SWEEP_GROUP}` },
    spec: {
      group: SWEEP_GROUP,
      scope: 'Namespaced',
      names: {
        plural: SWEEP_PLURAL,
        singular: 'sweep',
        kind: SWEEP_KIND,
        listKind: `${SWEEP_KIND}List`,
        categories: ['esweep'],
      },
      versions: [
        {
          name: SWEEP_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            column('Phase', '.status.phase', 'string', SWEEP_PHASES.join(', ')),
            column('Done', '.status.progress', 'string', 'finished trials / all trials'),
            column('Running', '.status.counts.running', 'integer'),
            column('Failed', '.status.counts.failed', 'integer'),
            column('Age', '.metadata.creationTimestamp', 'date'),
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: sweepSpecSchema(),
                status: sweepStatusOpenApi(),
              },
            },
          },
        },
      ],
    },
  };
}
