// Every esweep dashboard, built to Grafana's JSON model.
import type { BuiltDashboard } from './built.ts';
import { effectiveSparsity } from './effective-sparsity.ts';
import { sweepOverview } from './sweep-overview.ts';
import { trialDetail } from './trial-detail.ts';

export type { BuiltDashboard } from './built.ts';

export function buildDashboards(): BuiltDashboard[] {
  return [sweepOverview(), effectiveSparsity(), trialDetail()];
}

/** File name → dashboard JSON text, as written by `dashboards:build` and mounted into Grafana. */
export function dashboardFiles(): Record<string, string> {
  return Object.fromEntries(
    buildDashboards().map((built) => [built.file, `${JSON.stringify(built.dashboard, null, 2)}\n`]),
  );
}
