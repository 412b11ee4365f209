// A result row for tests of what renders results (tables, CSV, the report): a completed trial,
// with what the test cares about overridden.
import type { ResultRow } from './index.ts';

export function resultRow(overrides: Partial<ResultRow> = {}): ResultRow {
  return {
    trialId: 't',
    key: 'k',
    arch: 'lenet300100',
    dataset: 'mnist',
    pruner: 'synflow',
    pruningType: 'direct',
    targetSparsity: 0.99,
    targetCompression: 100,
    seed: 0,
    status: 'completed',
    attempts: 1,
    error: null,
    accuracy: 0.95,
    bestAccuracy: 0.95,
    loss: 0.2,
    seconds: 10,
    directSparsity: 0.99,
    effectiveSparsity: 0.991,
    directCompression: 100,
    effectiveCompression: 111,
    ranOn: { backend: 'wasm', device: 'test CPU', gpu: false },
    disconnected: false,
    ...overrides,
  };
}
