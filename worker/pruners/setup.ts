import type { Architecture } from '../arch/graph.ts';
import { type Dataset, loadDataset } from '../data/index.ts';
import { modelGradients } from '../model/gradients.ts';
import { initialWeights as referenceInit } from '../model/init.ts';
import type { PruneContext, Pruner } from './pruner.ts';

export interface PruneSetup {
  arch: Architecture;
  pruner: Pruner;
  seed: number;
  /** Weights to prune at initialization; default: the reference initialization from `seed`. */
  initialWeights?: Float32Array[];
  trainedWeights?: Float32Array[];
  /** Training data already loaded (the trial runner's); otherwise loaded here if the pruner needs it. */
  dataset?: Dataset;
  /** Where cifar/tinyimagenet files live (default ESWEEP_DATA_DIR). */
  dataDir?: string;
  /** Batches data-driven scores average over; default {@link defaultScoreBatches}. */
  scoreBatches?: number;
  scoreBatchSize?: number;
}

/** Examples per class that data-driven scores (SNIP, GraSP) see, as the reference prunes with. */
const SCORE_EXAMPLES_PER_CLASS = 10;

/** Batches of `batchSize` covering ≈ 10 examples per class (at least one batch). */
export function defaultScoreBatches(classes: number, batchSize: number): number {
  return Math.ceil((SCORE_EXAMPLES_PER_CLASS * classes) / batchSize);
}

/**
 * The context a pruner runs in: data is loaded only for pruners that need it, and the tfjs
 * network is created lazily on first use. Call `dispose` when done.
 */
export async function pruneContext(setup: PruneSetup): Promise<PruneContext & { dispose(): void }> {
  const { arch, pruner, seed } = setup;
  const { scoreBatchSize = 128 } = setup;
  const dataset =
    setup.dataset ??
    (pruner.requires.includes('data')
      ? await loadDataset(arch.dataset, { dataDir: setup.dataDir })
      : undefined);
  const network = modelGradients(arch, { dataset, batchSize: scoreBatchSize, seed });
  return {
    arch,
    seed,
    initialWeights: setup.initialWeights ?? referenceInit(arch, seed),
    network,
    scoreBatches: setup.scoreBatches ?? defaultScoreBatches(arch.classes, scoreBatchSize),
    ...(setup.trainedWeights ? { trainedWeights: setup.trainedWeights } : {}),
    dispose: () => network.dispose(),
  };
}
