/**
 * The reference's training settings per architecture (docs/science.md) and the `budget` that scales a run
 * down: the iteration count shrinks and the learning-rate drop points move with it, in proportion.
 */
import { z } from 'zod';
import { InputError } from '../../common/errors.ts';
import { showValue } from '../../common/validation.ts';
import type { ArchitectureName } from '../arch/zoo.ts';
import { batchesPerEpoch } from '../data/index.ts';

export interface TrainingSettings {
  readonly learningRate: number;
  readonly batchSize: number;
  readonly weightDecay: number;
  readonly iterations: number;
  /** Steps after which the learning rate is multiplied by `dropFactor`. */
  readonly drops: readonly number[];
}

export const MOMENTUM = 0.9;
export const DROP_FACTOR = 0.1;

const VGG: TrainingSettings = {
  learningRate: 0.1,
  batchSize: 128,
  weightDecay: 1e-4,
  iterations: 62_500,
  drops: [31_250, 46_875],
};

export const REFERENCE_SETTINGS: Record<ArchitectureName, TrainingSettings> = {
  lenet300100: {
    learningRate: 0.1,
    batchSize: 100,
    weightDecay: 5e-4,
    iterations: 96_000,
    drops: [25_000, 50_000, 75_000],
  },
  lenet5: {
    learningRate: 0.1,
    batchSize: 128,
    weightDecay: 5e-4,
    iterations: 120_000,
    drops: [30_000, 60_000, 90_000],
  },
  vgg16: VGG,
  vgg19: VGG,
  resnet18: {
    learningRate: 0.2,
    batchSize: 256,
    weightDecay: 1e-4,
    iterations: 78_200,
    drops: [39_100, 58_650],
  },
};

/**
 * How long to train: whole (or fractional) passes over the training set, or a number of steps.
 * Messages say only what is wrong; parseInput puts the field's name before them.
 */
export const Budget = z.union(
  [
    z.strictObject({ epochs: z.number().positive() }),
    z.strictObject({ iterations: z.number().int().min(1) }),
  ],
  { error: (issue) => `must be {epochs: N} or {iterations: N}, got ${showValue(issue.input)}` },
);
export type Budget = z.infer<typeof Budget>;

/** Per-trial overrides of the reference settings (smoke runs, experiments). */
export interface SettingsOverrides {
  learningRate?: number;
  batchSize?: number;
  weightDecay?: number;
}

/** Everything the training loop needs to know about the run's length and its optimizer. */
export interface TrainingPlan extends TrainingSettings {
  readonly momentum: number;
  readonly dropFactor: number;
  readonly stepsPerEpoch: number;
  /** Random crops and flips on the training batches. */
  readonly augment: boolean;
}

export function referenceSettings(archName: string): TrainingSettings {
  if (!Object.hasOwn(REFERENCE_SETTINGS, archName))
    throw new InputError(`no training settings for architecture '${archName}'`);
  return REFERENCE_SETTINGS[archName as ArchitectureName];
}

/**
 * The plan for a run on `trainCount` examples. Without a budget it is the reference schedule; with
 * one, every drop point is scaled by budget/reference iterations (rounded), so a run of a tenth of the
 * length drops its learning rate at the same fractions of its length. The batch is capped by the
 * training set (tiny smoke datasets), since batches are whole.
 */
export function trainingPlan(
  archName: string,
  trainCount: number,
  options: { budget?: Budget; overrides?: SettingsOverrides; augment: boolean },
): TrainingPlan {
  const reference = referenceSettings(archName);
  const overrides = options.overrides ?? {};
  const settings = {
    learningRate: overrides.learningRate ?? reference.learningRate,
    weightDecay: overrides.weightDecay ?? reference.weightDecay,
  };
  const batchSize = Math.min(overrides.batchSize ?? reference.batchSize, trainCount);
  if (batchSize < 1) throw new InputError('the training set is empty');
  const stepsPerEpoch = batchesPerEpoch(trainCount, batchSize, true);
  const { budget } = options;
  const iterations =
    budget === undefined
      ? reference.iterations
      : 'iterations' in budget
        ? budget.iterations
        : Math.max(1, Math.round(budget.epochs * stepsPerEpoch));
  const scale = iterations / reference.iterations;
  return {
    ...settings,
    batchSize,
    iterations,
    drops: reference.drops.map((drop) => Math.round(drop * scale)),
    momentum: MOMENTUM,
    dropFactor: DROP_FACTOR,
    stepsPerEpoch,
    augment: options.augment,
  };
}

/** The learning rate for step `step` (0-based): the base rate times dropFactor per drop passed. */
export function learningRateAt(plan: TrainingPlan, step: number): number {
  const passed = plan.drops.filter((drop) => step >= drop).length;
  return plan.learningRate * plan.dropFactor ** passed;
}
