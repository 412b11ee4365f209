import type { Dashboard, DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type { SqlQueryBuilder } from './sql.ts';

/** A dashboard built to Grafana's JSON model, with the SQL queries of its panels. */
export interface BuiltDashboard {
  /** File name under the output folder (and key in the Grafana ConfigMap). */
  file: string;
  dashboard: Dashboard;
  queries: SqlQueryBuilder[];
}

/** Builds the dashboard and numbers its panels 1, 2, … in layout order (the SDK leaves ids unset). */
export function finish(file: string, board: DashboardBuilder, queries: SqlQueryBuilder[]): BuiltDashboard {
  const dashboard = board.build();
  for (const [i, panel] of (dashboard.panels ?? []).entries()) panel.id = i + 1;
  return { file, dashboard, queries };
}
