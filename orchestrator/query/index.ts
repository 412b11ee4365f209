// The query layer the CLI (`esweep sweep results|compare`) and the reports use: pruners compared at
// matched effective compression (compare.ts), computed from a sweep's results as the store reads
// them (Store.sweepResults, Store.trialCurves). Infinite compression (nothing left) is `Infinity`
// there; JSON.stringify writes it as null, as docs/cli.md specifies.
export type { ResultFilter, ResultRow, TrialCurves } from '../store/store.ts';
export * from './compare.ts';
