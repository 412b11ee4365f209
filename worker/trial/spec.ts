/**
 * A trial: one training run of one pruned network. `TrialSpec` is the one trial contract: the sweep
 * expansion (orchestrator/sweep/expand.ts) builds every trial through it, a scheduler hands it to
 * the run, and `esweep train --trial` reads it back. `resolveTrial` turns it into the objects a run
 * needs, failing on bad input (one line, InputError) before any data is loaded or any backend starts.
 */
import { z } from 'zod';
import { InputError } from '../../common/errors.ts';
import { parseInput, readInputText } from '../../common/validation.ts';
import type { Architecture } from '../arch/graph.ts';
import { architecture } from '../arch/zoo.ts';
import { pruner as findPruner, knownPruner } from '../pruners/catalog.ts';
import { checkTarget, PRUNING_TYPES, type PruningType } from '../pruners/prune.ts';
import type { Pruner } from '../pruners/pruner.ts';
import { Budget } from '../train/settings.ts';

export const TrialSpec = z
  .strictObject({
    arch: z.string().min(1),
    /** The architecture's default dataset when omitted. */
    dataset: z.string().min(1).optional(),
    pruner: z.string().min(1),
    type: z.enum(PRUNING_TYPES).default('direct'),
    sparsity: z.number().min(0).max(1).optional(),
    compression: z.number().min(1).optional(),
    seed: z.number().int().nonnegative(),
    /** Training length; the reference schedule when omitted. */
    budget: Budget.optional(),
    /** Evaluate on the test set every this many steps (default: once per epoch) and at the end. */
    evalEvery: z.number().int().positive().optional(),
    /** At most this many examples per split (smoke runs). */
    limit: z.number().int().positive().optional(),
    /** Random crops and flips (default: on where the dataset has them: CIFAR, TinyImageNet). */
    augment: z.boolean().optional(),
    /** Overrides of the reference training settings. */
    batchSize: z.number().int().positive().optional(),
    learningRate: z.number().positive().optional(),
    weightDecay: z.number().nonnegative().optional(),
    /**
     * Training batches that data-driven pruning scores (SNIP, GraSP) average over; default ≈ 10
     * examples per class, as `esweep prune` (pruners/setup.ts).
     */
    scoreBatches: z.number().int().positive().optional(),
  })
  .refine((t) => t.sparsity === undefined || t.compression === undefined, {
    error: 'give sparsity or compression, not both',
  })
  .refine(
    (t) =>
      t.sparsity !== undefined ||
      t.compression !== undefined ||
      knownPruner(t.pruner)?.keepsEveryWeight === true,
    {
      error: 'give sparsity or compression (only the dense pruner needs neither)',
    },
  );
export type TrialSpec = z.output<typeof TrialSpec>;

/** A trial's validated objects: the architecture, the pruner and the target sparsity. */
export interface ResolvedTrial {
  spec: TrialSpec;
  arch: Architecture;
  pruner: Pruner;
  type: PruningType;
  sparsity: number;
}

export function parseTrial(value: unknown, source = 'trial'): TrialSpec {
  return parseInput(TrialSpec, value, source);
}

export async function readTrialFile(path: string): Promise<TrialSpec> {
  const text = await readInputText(path, 'trial file');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${path}: not valid JSON (${(error as Error).message})`);
  }
  return parseTrial(json, path);
}

export function resolveTrial(spec: TrialSpec): ResolvedTrial {
  const arch = architecture(spec.arch, spec.dataset);
  const pruner = findPruner(spec.pruner);
  const sparsity = spec.sparsity ?? (spec.compression === undefined ? 0 : 1 - 1 / spec.compression);
  checkTarget(arch, pruner, sparsity);
  return { spec, arch, pruner, type: spec.type, sparsity };
}
