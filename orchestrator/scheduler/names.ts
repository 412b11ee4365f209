// Deterministic run names: the same trial attempt always gets the same Job (or process) name, so a
// restarted controller finds what it created before and a second create is a harmless 409.
import { shortHash } from '../sweep/keys.ts';

/** Kubernetes Job names are DNS labels (≤ 63; pods add a 6-character suffix to this). */
export function runName(sweepName: string, trialKey: string, attempt: number): string {
  const slug =
    sweepName
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .slice(0, 20)
      .replace(/^-+|-+$/g, '') || 'sweep';
  // The hash tells apart sweeps whose names share a slug; the key tells apart trials.
  return `${slug}-${shortHash(sweepName, 6)}-${trialKey}-${attempt}`;
}
