/**
 * The training loop: masked SGD for `plan.iterations` steps over seeded epochs, the piecewise
 * learning rate, evaluation on the full test set every `evalEvery` steps and at the end, progress
 * and metrics to an observer, and a clean stop when `signal` aborts (Ctrl-C).
 */
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { batches, type Dataset } from '../data/index.ts';
import type { Model } from '../model/model.ts';
import type { CurvePoint, Reporter } from '../report/reporter.ts';
import type { MaskSet } from '../sparsity/masks.ts';
import { evaluate } from './evaluate.ts';
import { learningRateAt, type TrainingPlan } from './settings.ts';
import { createTrainer } from './trainer.ts';

export class TrainingInterrupted extends Error {
  override readonly name = 'TrainingInterrupted';
  constructor(readonly step: number) {
    super(`training interrupted at step ${step}`);
  }
}

export interface TrainOptions {
  plan: TrainingPlan;
  /** Seeds the shuffling and augmentation of every epoch. */
  seed: number;
  /** Evaluate every this many steps (and always after the last). */
  evalEvery: number;
  observer?: Pick<Reporter, 'progress' | 'metrics'>;
  signal?: AbortSignal;
  /** At most one progress event per this many milliseconds (default 500). */
  progressEveryMs?: number;
}

export interface TrainingOutcome {
  steps: number;
  accuracy: number;
  bestAccuracy: number;
  /** Mean training loss over the last evaluation interval. */
  loss: number;
  testLoss: number;
  curve: CurvePoint[];
  /** Seconds spent in training steps, evaluations excluded. */
  trainSeconds: number;
}

// Signals (SIGINT) are delivered between macrotasks; on wasm every tfjs call is synchronous, so
// the loop must give way now and then for Ctrl-C to be seen at all.
const YIELD_EVERY_MS = 50;

export async function train(
  model: Model,
  masks: MaskSet,
  dataset: Dataset,
  options: TrainOptions,
): Promise<TrainingOutcome> {
  const { plan, seed, evalEvery, observer, signal, progressEveryMs = 500 } = options;
  const trainer = createTrainer(model, masks, plan);
  const curve: CurvePoint[] = [];
  let step = 0;
  let epoch = 0;
  let interval = { sum: 0, steps: 0 };
  let evalSeconds = 0;
  const started = performance.now();
  let lastProgress = started;
  let lastYield = started;
  const elapsed = () => (performance.now() - started) / 1000;

  const drain = async () => {
    const drained = await trainer.drainLoss();
    interval = { sum: interval.sum + drained.sum, steps: interval.steps + drained.steps };
    return drained;
  };
  const progress = async (loss: number) => {
    const seconds = elapsed();
    lastProgress = performance.now();
    await observer?.progress({
      step,
      iterations: plan.iterations,
      epoch: epoch + 1,
      loss,
      learningRate: learningRateAt(plan, step - 1),
      accuracy: curve.at(-1)?.accuracy ?? null,
      elapsedSeconds: seconds,
      etaSeconds: (seconds / step) * (plan.iterations - step),
    });
  };
  const evaluation = async () => {
    await drain();
    const loss = interval.sum / interval.steps;
    interval = { sum: 0, steps: 0 };
    const evalStart = performance.now();
    const test = await evaluate(model, dataset, plan.batchSize);
    evalSeconds += (performance.now() - evalStart) / 1000;
    curve.push({ step, loss, accuracy: test.accuracy, testLoss: test.loss });
    await observer?.metrics({
      points: [
        { step, name: 'train/loss', value: loss },
        { step, name: 'test/accuracy', value: test.accuracy },
        { step, name: 'test/loss', value: test.loss },
        { step, name: 'lr', value: learningRateAt(plan, step - 1) },
      ],
    });
    await progress(loss);
  };

  try {
    while (step < plan.iterations) {
      const shuffle = { seed, epoch, augment: plan.augment };
      for (const batch of batches(dataset, 'train', { batchSize: plan.batchSize, shuffle, dropLast: true })) {
        trainer.step(batch, learningRateAt(plan, step));
        step++;
        const now = performance.now();
        if (step % evalEvery === 0 || step === plan.iterations) await evaluation();
        else if (now - lastProgress >= progressEveryMs) {
          const drained = await drain();
          await progress(drained.sum / drained.steps);
        }
        if (now - lastYield >= YIELD_EVERY_MS) {
          await nextMacrotask();
          lastYield = performance.now();
        }
        if (signal?.aborted) throw new TrainingInterrupted(step);
        if (step === plan.iterations) break;
      }
      epoch++;
    }
  } finally {
    trainer.dispose();
  }
  const last = curve[curve.length - 1];
  return {
    steps: step,
    accuracy: last.accuracy,
    bestAccuracy: Math.max(...curve.map((point) => point.accuracy)),
    loss: last.loss,
    testLoss: last.testLoss,
    curve,
    trainSeconds: elapsed() - evalSeconds,
  };
}
