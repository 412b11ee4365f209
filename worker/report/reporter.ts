/**
 * What a trial tells the world while it runs. Each method of `Reporter` is one event kind of
 * docs/events.md (started | progress | metrics | sparsity | completed | failed); a transport adds the
 * envelope `{v, kind, sweepId, trialId, attempt, seq, time}` and heartbeats of its own.
 */
import type { LayerSparsity, SparsityReport } from '../sparsity/analysis.ts';
import type { Provenance } from '../tf/provenance.ts';

export interface StartedEvent {
  arch: string;
  dataset: string;
  pruner: string;
  type: 'direct' | 'effective';
  /** The requested sparsity (direct or effective, per `type`). */
  sparsity: number;
  seed: number;
  /** Our backend name (gpu | node | wasm | cpu). */
  backend: string;
  /** Where the trial runs: device, GPU or not, tfjs/libtensorflow versions, image, host. */
  provenance: Provenance;
  iterations: number;
  stepsPerEpoch: number;
  batchSize: number;
  learningRate: number;
  weightDecay: number;
  drops: number[];
  augment: boolean;
  trainExamples: number;
  testExamples: number;
}

/** Whole-network figures of a sparsity report; `Infinity` compression when nothing is left. */
export type SparsityOverall = Omit<SparsityReport, 'arch' | 'layers'>;

export interface SparsityEvent {
  layers: LayerSparsity[];
  overall: SparsityOverall;
}

export interface ProgressEvent {
  /** Steps done (1-based count). */
  step: number;
  iterations: number;
  /** The epoch the last step belonged to, 1-based. */
  epoch: number;
  /** Mean training loss over the steps since the previous progress event. */
  loss: number;
  learningRate: number;
  /** Test accuracy of the latest evaluation, null before the first. */
  accuracy: number | null;
  elapsedSeconds: number;
  etaSeconds: number;
}

export interface MetricPoint {
  step: number;
  name: string;
  value: number;
}

export interface MetricsEvent {
  points: MetricPoint[];
}

export interface CurvePoint {
  step: number;
  /** Mean training loss over the steps since the previous point. */
  loss: number;
  /** Test accuracy at this step (full test set). */
  accuracy: number;
  testLoss: number;
}

/** A finished trial: the `completed` payload and the result JSON of `esweep train`. */
export interface TrialResult extends SparsityOverall {
  /**
   * The trial as run: its TrialSpec (worker/trial/spec.ts) with defaults filled in. Typed as plain
   * JSON here because the trial runner sits above the reporting it uses.
   */
  trial: Readonly<Record<string, unknown>>;
  /** Test accuracy at the end of training (full test set). */
  accuracy: number;
  /** Best test accuracy over all evaluations. */
  bestAccuracy: number;
  /** Mean training loss over the last evaluation interval. */
  loss: number;
  testLoss: number;
  /** Wall-clock seconds of the whole trial (data, pruning, training, evaluation). */
  seconds: number;
  trainSeconds: number;
  steps: number;
  backend: string;
  layers: LayerSparsity[];
  curve: CurvePoint[];
  /** Where a dense trial saved its weights (torch-layout npz), for magnitude and LAMP trials. */
  weights?: { initial: string; final: string };
  /**
   * True when no path from input to output was left (effective count 0): not trained, and the
   * accuracy is the constant predictor's (the training labels' majority class on the test set).
   */
  disconnected?: boolean;
}

export interface FailedEvent {
  error: string;
  /** False for bad input (the same trial would fail again), true for interruptions and crashes. */
  retryable: boolean;
}

export interface Reporter {
  started(event: StartedEvent): Promise<void>;
  sparsity(event: SparsityEvent): Promise<void>;
  progress(event: ProgressEvent): Promise<void>;
  metrics(event: MetricsEvent): Promise<void>;
  completed(result: TrialResult): Promise<void>;
  failed(event: FailedEvent): Promise<void>;
}
