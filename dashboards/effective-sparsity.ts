// (b) Effective sparsity, the paper's figures: test accuracy against effective compression (log x)
// per pruner with the spread over seeds, effective against direct compression per pruner, and the
// layerwise effective sparsity at one target compression.
import { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import * as table from '@grafana/grafana-foundation-sdk/table';
import { type BuiltDashboard, finish } from './built.ts';
import { LOG10_AXIS, seriesXYChart } from './panels.ts';
import { QuerySet } from './sql.ts';
import { compressionVariable, selection, selectionVariables } from './variables.ts';

const EFFECTIVE_SPARSITY_UID = 'esweep-effective-sparsity';

/** One series per architecture, pruner and pruning type. */
const SERIES = `arch || ' · ' || pruner || ' · ' || pruning_type`;
/** Completed trials with a finite effective compression (nothing left = infinite: not plottable). */
const PLOTTABLE = `${selection()} AND status = 'completed' AND effective_compression < 'Infinity'::float8`;

export function effectiveSparsity(): BuiltDashboard {
  const q = new QuerySet();
  const board = new DashboardBuilder('esweep · effective sparsity')
    .uid(EFFECTIVE_SPARSITY_UID)
    .tags(['esweep'])
    .time({ from: 'now-30d', to: 'now' })
    .variables([...selectionVariables(), compressionVariable()])
    .withPanel(
      seriesXYChart(
        'Test accuracy vs effective compression (mean, min and max over seeds)',
        q.sql(
          `SELECT ${SERIES} AS series,
                  avg(effective_compression) AS effective_compression,
                  avg(accuracy) AS accuracy_mean,
                  min(accuracy) AS accuracy_min,
                  max(accuracy) AS accuracy_max
           FROM results_view WHERE ${PLOTTABLE}
           GROUP BY arch, pruner, pruning_type, target_compression
           ORDER BY series, effective_compression`,
          ['series', 'effective_compression', 'accuracy_mean', 'accuracy_min', 'accuracy_max'],
        ),
        'series',
      )
        .overrideByName('effective_compression', [LOG10_AXIS])
        .overrideByRegexp('accuracy_.*', [{ id: 'unit', value: 'percentunit' }])
        .span(24)
        .height(12),
    )
    .withPanel(
      seriesXYChart(
        'Effective vs direct compression',
        q.sql(
          `SELECT ${SERIES} AS series, direct_compression, effective_compression
           FROM results_view WHERE ${PLOTTABLE} AND direct_compression < 'Infinity'::float8
           ORDER BY series, direct_compression`,
          ['series', 'direct_compression', 'effective_compression'],
        ),
        'series',
      )
        .overrideByName('direct_compression', [LOG10_AXIS])
        .overrideByName('effective_compression', [LOG10_AXIS])
        .span(12)
        .height(12),
    )
    .withPanel(
      seriesXYChart(
        'Layerwise effective sparsity at target compression $compression (mean over seeds)',
        q.sql(
          `SELECT ${SERIES} AS series, layer_index,
                  avg(effective_sparsity) AS effective_sparsity,
                  avg(direct_sparsity) AS direct_sparsity
           FROM layer_sparsity_view
           WHERE ${selection()} AND target_compression = $compression
           GROUP BY arch, pruner, pruning_type, layer_index
           ORDER BY series, layer_index`,
          ['series', 'layer_index', 'effective_sparsity', 'direct_sparsity'],
        ),
        'series',
      )
        .overrideByRegexp('.*_sparsity', [{ id: 'unit', value: 'percentunit' }])
        .span(12)
        .height(12),
    )
    .withPanel(
      new table.PanelBuilder()
        .title('Pruners at equal target compression (over seeds)')
        .withTarget(
          q.sql(
            `SELECT arch, pruner, pruning_type, target_compression, count(*)::int AS seeds,
                    avg(direct_compression) AS direct_compression,
                    avg(effective_compression) AS effective_compression,
                    avg(accuracy) AS accuracy_mean,
                    coalesce(stddev_samp(accuracy), 0) AS accuracy_std
             FROM results_view WHERE ${selection()} AND status = 'completed'
             GROUP BY arch, pruner, pruning_type, target_compression
             ORDER BY arch, target_compression, accuracy_mean DESC`,
            [
              'arch',
              'pruner',
              'pruning_type',
              'target_compression',
              'seeds',
              'direct_compression',
              'effective_compression',
              'accuracy_mean',
              'accuracy_std',
            ],
          ),
        )
        .overrideByRegexp('accuracy_.*', [{ id: 'unit', value: 'percentunit' }])
        .span(24)
        .height(10),
    );
  return finish('effective-sparsity.json', board, q.all);
}
