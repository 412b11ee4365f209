// A sweep plan as the database stores it (the pipeline's repositories take these inputs).
import type { SubmitResult, SweepInput, SweepStore, TrialInput } from '../store/store.ts';
import type { SweepPlan } from './expand.ts';

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
    arch: trial.document.arch,
    dataset: trial.document.dataset,
    pruner: trial.document.pruner,
    pruningType: trial.document.type,
    targetSparsity: trial.targetSparsity,
    targetCompression: trial.targetCompression,
    seed: trial.document.seed,
    budget: trial.document.budget ?? {},
    params: trial.document,
    dependsOnKey: trial.dependsOn,
  }));
}

/** Records the plan: creates the sweep or adds only the trials it lacks (idempotent). */
export function submitPlan(repos: SweepStore, plan: SweepPlan, backend: BackendName): Promise<SubmitResult> {
  return repos.submitSweep(sweepInput(plan, backend), trialInputs(plan));
}
