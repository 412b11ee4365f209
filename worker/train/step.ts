import type { Batch } from '../data/index.ts';

/**
 * One implementation of the masked training step (trainer.ts chooses one). It lives apart from
 * trainer.ts so that the implementations in host/ can implement it without importing their chooser.
 */
export interface StepTrainer {
  step(batch: Batch, learningRate: number): void;
  /** The summed loss and count of the steps since the last call. */
  drainLoss(): Promise<{ sum: number; steps: number }>;
  dispose(): void;
}
