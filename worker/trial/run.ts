/**
 * One trial end to end: data → model at the reference initialization → prune (at initialization,
 * or from the dense run's final weights for magnitude/LAMP) → effective sparsity → masked training
 * → evaluation → result, every stage reported through a Reporter.
 */

import { InputError } from '../../common/errors.ts';
import { loadDataset } from '../data/index.ts';
import { readWeightFile, writeWeightFile } from '../masks/weight-file.ts';
import { initialWeights } from '../model/init.ts';
import { Model } from '../model/model.ts';
import { prune } from '../pruners/prune.ts';
import { pruneContext } from '../pruners/setup.ts';
import type { Reporter, SparsityOverall, TrialResult } from '../report/reporter.ts';
import { analyze, type SparsityReport } from '../sparsity/analysis.ts';
import { type BackendChoice, selectBackend } from '../tf/backend.ts';
import { runtimeProvenance } from '../tf/provenance.ts';
import { constantPrediction } from '../train/constant.ts';
import { train } from '../train/loop.ts';
import { trainingPlan } from '../train/settings.ts';
import { denseWeightFiles } from './dense-weights.ts';
import { type ResolvedTrial, resolveTrial, type TrialSpec } from './spec.ts';

export interface RunOptions {
  reporter: Reporter;
  /** Force a backend (gpu | node | wasm | cpu); the best available otherwise. */
  backend?: string;
  /** Where cifar10/cifar100/tinyimagenet/fashion-mnist live (default ESWEEP_DATA_DIR). */
  dataDir?: string;
  /** The directory a dense trial of the same architecture and seed saved its weights to. */
  denseFrom?: string;
  /** Where a dense trial saves its initial and final weights. */
  weightsOut?: string;
  /** Aborting stops training cleanly after the current step (TrainingInterrupted). */
  signal?: AbortSignal;
}

function overallOf({ arch: _arch, layers: _layers, ...overall }: SparsityReport): SparsityOverall {
  return overall;
}

/** The dense run's final weights, for pruners that score them; an input error names what is missing. */
async function trainedWeightsFor(trial: ResolvedTrial, denseFrom: string | undefined) {
  if (!trial.pruner.requires.includes('trainedWeights')) return undefined;
  if (denseFrom === undefined) {
    throw new InputError(
      `pruner ${trial.pruner.name} scores the trained dense network: pass --dense-from DIR, where the dense ` +
        `trial of ${trial.arch.name} seed ${trial.spec.seed} saved its weights`,
    );
  }
  return readWeightFile(denseWeightFiles(denseFrom, trial.arch, trial.spec.seed).final, trial.arch);
}

export async function runTrial(spec: TrialSpec, options: RunOptions): Promise<TrialResult> {
  const clockStart = performance.now();
  const trial = resolveTrial(spec);
  const { arch, pruner } = trial;
  const trainedWeights = await trainedWeightsFor(trial, options.denseFrom);
  const backend: BackendChoice = await selectBackend(options.backend);
  const dataset = await loadDataset(arch.dataset, { dataDir: options.dataDir, limit: spec.limit });
  const plan = trainingPlan(arch.name, dataset.train.count, {
    budget: spec.budget,
    overrides: { batchSize: spec.batchSize, learningRate: spec.learningRate, weightDecay: spec.weightDecay },
    augment: spec.augment ?? dataset.augmentation !== null,
  });
  const { reporter } = options;
  await reporter.started({
    arch: arch.name,
    dataset: arch.dataset,
    pruner: pruner.name,
    type: trial.type,
    sparsity: trial.sparsity,
    seed: spec.seed,
    backend: backend.name,
    provenance: runtimeProvenance(backend),
    iterations: plan.iterations,
    stepsPerEpoch: plan.stepsPerEpoch,
    batchSize: plan.batchSize,
    learningRate: plan.learningRate,
    weightDecay: plan.weightDecay,
    drops: [...plan.drops],
    augment: plan.augment,
    trainExamples: dataset.train.count,
    testExamples: dataset.test.count,
  });
  try {
    const initial = initialWeights(arch, spec.seed);
    // Scores are taken on the trial's own data, in batches of its training batch size.
    const context = await pruneContext({
      arch,
      pruner,
      seed: spec.seed,
      initialWeights: initial,
      trainedWeights,
      dataset,
      scoreBatches: spec.scoreBatches,
      scoreBatchSize: plan.batchSize,
    });
    let masks: Uint8Array[];
    try {
      masks = await prune(context, pruner, { sparsity: trial.sparsity, type: trial.type });
    } finally {
      context.dispose();
    }
    const sparsity = analyze(arch, masks);
    await reporter.sparsity({ layers: sparsity.layers, overall: overallOf(sparsity) });
    if (sparsity.effective === 0) {
      const result = disconnectedResult(spec, backend.name, sparsity, dataset, clockStart);
      await reporter.completed(result);
      return result;
    }

    const model = new Model(arch, initial);
    try {
      const outcome = await train(model, masks, dataset, {
        plan,
        seed: spec.seed,
        evalEvery: Math.min(spec.evalEvery ?? plan.stepsPerEpoch, plan.iterations),
        observer: reporter,
        signal: options.signal,
      });
      // The unpruned network's weights are what magnitude/LAMP trials of the same seed score.
      const weights = pruner.keepsEveryWeight
        ? await saveDenseWeights(trial, initial, model, options.weightsOut ?? '.')
        : undefined;
      const result: TrialResult = {
        trial: spec,
        accuracy: outcome.accuracy,
        bestAccuracy: outcome.bestAccuracy,
        loss: outcome.loss,
        testLoss: outcome.testLoss,
        seconds: (performance.now() - clockStart) / 1000,
        trainSeconds: outcome.trainSeconds,
        steps: outcome.steps,
        backend: backend.name,
        ...overallOf(sparsity),
        layers: sparsity.layers,
        curve: outcome.curve,
        ...(weights ? { weights } : {}),
      };
      await reporter.completed(result);
      return result;
    } finally {
      model.dispose();
    }
  } catch (error) {
    await reporter.failed({
      error: error instanceof Error ? error.message : String(error),
      retryable: !(error instanceof InputError),
    });
    throw error;
  }
}

/**
 * A network with no path from input to output (effective count 0): its output cannot depend on
 * the input, so training could only fit a constant. It is recorded untrained, with the accuracy of
 * the constant predictor fitted to the training labels (worker/train/constant.ts).
 */
function disconnectedResult(
  spec: TrialSpec,
  backend: string,
  sparsity: SparsityReport,
  dataset: Parameters<typeof constantPrediction>[0],
  clockStart: number,
): TrialResult {
  const constant = constantPrediction(dataset);
  return {
    trial: spec,
    disconnected: true,
    accuracy: constant.accuracy,
    bestAccuracy: constant.accuracy,
    loss: constant.loss,
    testLoss: constant.testLoss,
    seconds: (performance.now() - clockStart) / 1000,
    trainSeconds: 0,
    steps: 0,
    backend,
    ...overallOf(sparsity),
    layers: sparsity.layers,
    curve: [],
  };
}

async function saveDenseWeights(
  trial: ResolvedTrial,
  initial: readonly Float32Array[],
  model: Model,
  dir: string,
) {
  const files = denseWeightFiles(dir, trial.arch, trial.spec.seed);
  await writeWeightFile(files.initial, trial.arch, initial);
  await writeWeightFile(files.final, trial.arch, model.weights());
  return files;
}
