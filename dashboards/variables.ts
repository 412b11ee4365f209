// Template variables shared by the dashboards, and the SQL filter that applies them. Multi-value
// variables are interpolated by Grafana's SQL data sources as a quoted, comma-separated list, so they
// are used as `IN ($name)`; single-value ones are inserted raw and quoted in the SQL.
import {
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DATASOURCE_VARIABLE, datasource, POSTGRES_DATASOURCE_TYPE } from './sql.ts';

export const datasourceVariable = () =>
  new DatasourceVariableBuilder(DATASOURCE_VARIABLE).label('Data source').type(POSTGRES_DATASOURCE_TYPE);

function queryVariable(name: string, label: string, sql: string, multi: boolean) {
  const variable = new QueryVariableBuilder(name)
    .label(label)
    .datasource(datasource)
    .query(sql)
    .definition(sql)
    .refresh(VariableRefresh.OnDashboardLoad)
    .sort(VariableSort.Disabled);
  return multi ? variable.multi(true).includeAll(true) : variable;
}

/** SQL each variable's options come from (the tests run these too). */
export const VARIABLE_SQL = {
  sweep: 'SELECT name AS __text, id AS __value FROM sweep ORDER BY created_at DESC',
  arch: "SELECT DISTINCT arch FROM trial WHERE sweep_id = '$sweep' ORDER BY 1",
  pruner: "SELECT DISTINCT pruner FROM trial WHERE sweep_id = '$sweep' AND arch IN ($arch) ORDER BY 1",
  type: "SELECT DISTINCT pruning_type::text FROM trial WHERE sweep_id = '$sweep' ORDER BY 1",
  compression:
    "SELECT DISTINCT target_compression FROM trial WHERE sweep_id = '$sweep' AND arch IN ($arch) ORDER BY 1",
  trial: `SELECT arch || ' ' || pruner || ' ' || pruning_type || ' c=' || round(target_compression::numeric, 1)
      || ' seed ' || seed AS __text, id AS __value
    FROM trial WHERE sweep_id = '$sweep' AND arch IN ($arch) AND pruner IN ($pruner)
      AND pruning_type::text IN ($type)
    ORDER BY arch, pruner, pruning_type, target_compression, seed`,
} as const;

export const sweepVariable = () => queryVariable('sweep', 'Sweep', VARIABLE_SQL.sweep, false);
export const archVariable = () => queryVariable('arch', 'Architecture', VARIABLE_SQL.arch, true);
export const prunerVariable = () => queryVariable('pruner', 'Pruner', VARIABLE_SQL.pruner, true);
export const typeVariable = () => queryVariable('type', 'Pruning type', VARIABLE_SQL.type, true);
export const compressionVariable = () =>
  queryVariable('compression', 'Target compression', VARIABLE_SQL.compression, false);
export const trialVariable = () => queryVariable('trial', 'Trial', VARIABLE_SQL.trial, false);

/** The selection variables every dashboard has (data source, sweep, arch, pruner, type), in display order. */
export const selectionVariables = () => [
  datasourceVariable(),
  sweepVariable(),
  archVariable(),
  prunerVariable(),
  typeVariable(),
];

/** WHERE clause of the selection, for a view with sweep_id, arch, pruner and pruning_type columns. */
export function selection(alias = ''): string {
  const c = alias ? `${alias}.` : '';
  return `${c}sweep_id = '$sweep' AND ${c}arch IN ($arch) AND ${c}pruner IN ($pruner) AND ${c}pruning_type::text IN ($type)`;
}
