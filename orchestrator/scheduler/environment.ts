import type { RunRequest } from './backend.ts';

/**
 * What a worker learns about its run from its environment, the same on every backend: the
 * TrialSpec (written to a file for `esweep train --trial`), and the ids its events carry.
 */
export function workerEnvironment(request: RunRequest, name: string): Record<string, string> {
  const env: Record<string, string> = {
    ESWEEP_TRIAL: JSON.stringify(request.spec),
    ESWEEP_SWEEP_ID: request.sweepId,
    ESWEEP_TRIAL_ID: request.trialId,
    ESWEEP_TRIAL_KEY: request.trialKey,
    ESWEEP_ATTEMPT: String(request.attempt),
    ESWEEP_RUN_NAME: name,
  };
  if (request.dependsOnTrialId) env.ESWEEP_DENSE_TRIAL_ID = request.dependsOnTrialId;
  return env;
}
