// Panel shapes the dashboards share: an xy chart with one series per value of a column, and a
// logarithmic axis override.
import * as common from '@grafana/grafana-foundation-sdk/common';
import type { DynamicConfigValue } from '@grafana/grafana-foundation-sdk/dashboard';
import * as xychart from '@grafana/grafana-foundation-sdk/xychart';
import type { SqlQueryBuilder } from './sql.ts';

/** Field config that puts a numeric field on a base-10 logarithmic axis. */
export const LOG10_AXIS: DynamicConfigValue = {
  id: 'custom.scaleDistribution',
  value: new common.ScaleDistributionConfigBuilder().type(common.ScaleDistribution.Log).log(10).build(),
};

/**
 * An xy chart of a long-format query: rows are split into one frame per value of `seriesColumn`
 * (Grafana's partitionByValues), and each frame plots its first numeric column (x) against the others.
 */
export function seriesXYChart(title: string, query: SqlQueryBuilder, seriesColumn: string) {
  return new xychart.PanelBuilder()
    .title(title)
    .withTarget(query)
    .withTransformation({
      id: 'partitionByValues',
      options: { fields: [seriesColumn], keepFields: false, naming: { asLabels: false } },
    })
    .mapping(xychart.SeriesMapping.Auto)
    .show(xychart.XYShowMode.PointsAndLines)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Right),
    )
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi));
}
