// `esweep sweep submit --dry-run`: what a submission would create, computed without writing anything.
import type { V1Job } from '@kubernetes/client-node';
import type { PlannedTrial, SweepPlan } from '../sweep/expand.ts';
import type { KubernetesConfig } from './kubernetes/config.ts';
import { jobManifest, plainManifest } from './kubernetes/manifest.ts';

export interface DryRunTrial extends Record<string, unknown> {
  key: string;
  dependsOn: string | null;
}

export interface DryRun {
  sweep: { name: string; trials: number; maxParallel: number | null; retries: number };
  trials: DryRunTrial[];
  /** One Job manifest per trial (first attempt); empty for the local backend. */
  jobs: V1Job[];
}

const trialRow = (trial: PlannedTrial): DryRunTrial => ({
  key: trial.key,
  ...trial.spec,
  targetSparsity: trial.targetSparsity,
  targetCompression: trial.targetCompression,
  dependsOn: trial.dependsOn,
});

/**
 * The plan and, for kubernetes, its Jobs. Nothing exists yet, so the sweep's name and each trial's
 * key stand in for the database ids in labels and environment.
 */
export function dryRun(plan: SweepPlan, kubernetes: KubernetesConfig | null): DryRun {
  const { spec } = plan;
  const jobs = kubernetes
    ? plan.trials.map((trial) =>
        plainManifest(
          jobManifest(
            {
              sweepId: spec.name,
              sweepName: spec.name,
              trialId: trial.key,
              trialKey: trial.key,
              attempt: 1,
              spec: trial.spec,
              dependsOnTrialId: trial.dependsOn,
              resources: spec.resources,
            },
            kubernetes,
          ),
        ),
      )
    : [];
  return {
    sweep: {
      name: spec.name,
      trials: plan.trials.length,
      maxParallel: spec.maxParallel ?? null,
      retries: spec.retries,
    },
    trials: plan.trials.map(trialRow),
    jobs,
  };
}
