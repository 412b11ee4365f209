// The `Sweep` custom resource (docs/sweep-resource.md): its identity on the API server and the shape of
// its status. The spec is the sweep file itself (spec.ts); crd.ts turns both into the CRD's schema.
import { z } from 'zod';
import { InputError } from '../../common/errors.ts';
import { showValue } from '../../common/validation.ts';
import { expandSweep, type SweepPlan } from './expand.ts';
import { parseSweepDocument } from './spec.ts';

export const SWEEP_GROUP = 'esweep.dev';
export const SWEEP_VERSION = 'v1alpha1';
export const SWEEP_API_VERSION = `${SWEEP_GROUP}/${SWEEP_VERSION}`;
export const SWEEP_KIND = 'Sweep';
export const SWEEP_PLURAL = 'sweeps';
/** Set on every Sweep the controller has expanded: deleting the object waits until its sweep is cancelled. */
export const SWEEP_FINALIZER = 'esweep.dev/cancel-trials';

export const SWEEP_PHASES = [
  'Pending',
  'Running',
  'Completed',
  'Failed',
  'Cancelled',
  'Invalid',
  'Terminating',
] as const;
export type SweepPhase = (typeof SWEEP_PHASES)[number];

/**
 * Condition types: `Accepted` says whether the spec was taken (False: reason `Invalid` naming the field,
 * or `SpecChangeRefused` for an edit of a field that cannot change); `Succeeded` is Unknown while the
 * sweep runs (reason `Running` or `Pending`), then True (`Completed`) or False (`Failed`, `Cancelled`).
 */
export const CONDITION_TYPES = ['Accepted', 'Succeeded'] as const;

const condition = z.object({
  type: z.enum(CONDITION_TYPES),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string().regex(/^[A-Za-z]([A-Za-z0-9_]*[A-Za-z0-9])?$/),
  message: z.string(),
  lastTransitionTime: z.string(),
  observedGeneration: z.number().int().min(0).optional(),
});
export type SweepCondition = z.output<typeof condition>;

const count = z.number().int().min(0);

export const sweepStatusSchema = z.object({
  phase: z.enum(SWEEP_PHASES),
  observedGeneration: z.number().int().min(0).optional(),
  /** `done/total` for `kubectl get` (done = completed + failed + cancelled). */
  progress: z.string().optional(),
  counts: z
    .object({
      total: count,
      pending: count,
      queued: count,
      running: count,
      completed: count,
      failed: count,
      cancelled: count,
    })
    .optional(),
  /** The database's id of the sweep (for `esweep sweep results|compare|report`). */
  sweepId: z.string().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  /** Per architecture, pruner and type: the best test accuracy over seeds at each target compression. */
  best: z
    .array(
      z.object({
        arch: z.string(),
        pruner: z.string(),
        type: z.string(),
        compression: z.number(),
        accuracy: z.number(),
        seeds: count,
      }),
    )
    .optional(),
  conditions: z.array(condition).optional(),
});
export type SweepResourceStatus = z.output<typeof sweepStatusSchema>;

/** A Sweep object as the controller and the CLI read it (the spec is validated separately). */
export interface SweepObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    finalizers?: string[];
    labels?: Record<string, string>;
  };
  spec: unknown;
  status?: SweepResourceStatus;
}

/**
 * Validates a Sweep object's spec with the sweep file's own schema and expands it. `spec.name` may be
 * left out (the object's name is used); given, it must equal the object's name. Every problem is an
 * InputError that names the field as `spec.<field>`.
 */
export function planOfObject(object: Pick<SweepObject, 'metadata' | 'spec'>): SweepPlan {
  const spec = object.spec;
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec))
    throw new InputError('spec: must be a sweep file (name, architectures, pruners, …)');
  const named = spec as { name?: unknown };
  if (named.name !== undefined && named.name !== object.metadata.name)
    throw new InputError(
      `spec.name: must equal metadata.name '${object.metadata.name}' (or be left out), got ${showValue(named.name)}`,
    );
  const document = { ...spec, name: object.metadata.name };
  return expandSweep(parseSweepDocument(document, 'spec'), {}, 'spec');
}
