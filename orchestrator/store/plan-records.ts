// A sweep plan as the store records it: the sweep row and one trial row per planned trial.

import type { SweepPlan } from '../sweep/expand.ts';
import type { SubmitResult, SweepInput, SweepStore, TrialInput } from './store.ts';

export type BackendName = 'kubernetes' | 'local';

export function sweepInput(plan: SweepPlan, backend: BackendName): SweepInput {
  return {
    name: plan.spec.name,
    spec: JSON.parse(JSON.stringify(plan.spec)),
    backend,
    maxParallel: plan.spec.maxParallel ?? null,
    retries: plan.spec.retries,
  };
}

export function trialInputs(plan: SweepPlan): TrialInput[] {
  return plan.trials.map((trial) => ({
    key: trial.key,
    arch: trial.spec.arch,
    dataset: trial.spec.dataset,
    pruner: trial.spec.pruner,
    pruningType: trial.spec.type,
    targetSparsity: trial.targetSparsity,
    targetCompression: trial.targetCompression,
    seed: trial.spec.seed,
    budget: trial.spec.budget ?? {},
    params: trial.spec,
    dependsOnKey: trial.dependsOn,
  }));
}

/** Records the plan: creates the sweep or adds only the trials it lacks (idempotent). */
export function submitPlan(repos: SweepStore, plan: SweepPlan, backend: BackendName): Promise<SubmitResult> {
  return repos.submitSweep(sweepInput(plan, backend), trialInputs(plan));
}
