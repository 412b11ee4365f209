// (b) Effective sparsity, the paper's figures as the HTML report draws them: test accuracy against
// effective compression (log x) per pruner and type with mean ± std over seeds, effective against
// direct compression with y = x, and the layerwise effective density at one target compression. As
// in the report, a pruner has one colour (fixed by name) and direct pruning is dashed.
import {
  DashboardBuilder,
  type DynamicConfigValue,
  type MatcherConfig,
} from '@grafana/grafana-foundation-sdk/dashboard';
import * as table from '@grafana/grafana-foundation-sdk/table';
import type * as xychart from '@grafana/grafana-foundation-sdk/xychart';
import { prunerColors } from '../orchestrator/report/charts.ts';
import { prunerNames } from '../worker/pruners/catalog.ts';
import { type BuiltDashboard, finish } from './built.ts';
import { LOG10_AXIS, seriesXYChart } from './panels.ts';
import { QuerySet } from './sql.ts';
import { compressionVariable, selection, selectionVariables } from './variables.ts';

const EFFECTIVE_SPARSITY_UID = 'esweep-effective-sparsity';
/** The series name of the y = x reference line. */
const IDENTITY = 'y = x';

const regexpEscape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The ± std edges: thin and dotted, in their series' colour. */
const BAND_EDGE: DynamicConfigValue[] = [
  { id: 'custom.lineStyle', value: { fill: 'dot', dash: [1, 3] } },
  { id: 'custom.lineWidth', value: 1 },
];

/**
 * A colour per pruner (the report's, fixed by name) and dashes for direct pruning, matched on the
 * series names SERIES makes; a pruner's name is matched whole so that 'snip' leaves 'random/snip' be.
 */
const PRUNER_STYLE: { matcher: MatcherConfig; properties: DynamicConfigValue[] }[] = [
  ...prunerNames().map((pruner, k, all) => ({
    matcher: { id: 'byRegexp', options: `(^|.* )${regexpEscape(pruner)} \\(.*` },
    properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: prunerColors(all)[k] } }],
  })),
  {
    matcher: { id: 'byRegexp', options: '.*\\(direct\\).*' },
    properties: [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 6] } }],
  },
];

/** The panel with the pruner colours and direct-pruning dashes added to its overrides. */
function withPrunerStyle(panel: xychart.PanelBuilder): xychart.PanelBuilder {
  for (const override of PRUNER_STYLE) panel.withOverride(override);
  return panel;
}

/** One series per pruner, pruning type and architecture: "snip (direct) · lenet300100". */
const SERIES = `pruner || ' (' || pruning_type || ') · ' || arch`;
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
      withPrunerStyle(
        seriesXYChart(
          'Test accuracy vs effective compression (mean ± std over seeds)',
          q.sql(
            `SELECT series, effective_compression, accuracy_mean,
                  accuracy_mean - accuracy_std AS accuracy_lo, accuracy_mean + accuracy_std AS accuracy_hi
           FROM (SELECT ${SERIES} AS series,
                        avg(effective_compression) AS effective_compression,
                        avg(accuracy) AS accuracy_mean,
                        coalesce(stddev_samp(accuracy), 0) AS accuracy_std
                 FROM results_view WHERE ${PLOTTABLE}
                 GROUP BY arch, pruner, pruning_type, target_compression) s
           ORDER BY series, effective_compression`,
            ['series', 'effective_compression', 'accuracy_mean', 'accuracy_lo', 'accuracy_hi'],
          ),
          'series',
        )
          .overrideByName('effective_compression', [LOG10_AXIS])
          .overrideByRegexp('accuracy_.*', [{ id: 'unit', value: 'percentunit' }]),
      )
        .overrideByRegexp('.*accuracy_(lo|hi).*', BAND_EDGE)
        .span(24)
        .height(12),
    )
    .withPanel(
      withPrunerStyle(
        seriesXYChart(
          'Effective vs direct compression (dotted: y = x)',
          q.sql(
            `WITH p AS (SELECT ${SERIES} AS series, direct_compression, effective_compression
                      FROM results_view WHERE ${PLOTTABLE} AND direct_compression < 'Infinity'::float8)
           SELECT series, direct_compression, effective_compression FROM p
           UNION ALL
           SELECT '${IDENTITY}', v, v
           FROM (SELECT least(min(direct_compression), min(effective_compression)) AS lo,
                        greatest(max(direct_compression), max(effective_compression)) AS hi FROM p) r,
                LATERAL (VALUES (r.lo), (r.hi)) AS b(v)
           WHERE r.lo IS NOT NULL
           ORDER BY series, direct_compression`,
            ['series', 'direct_compression', 'effective_compression'],
          ),
          'series',
        )
          .overrideByName('direct_compression', [LOG10_AXIS])
          .overrideByName('effective_compression', [LOG10_AXIS]),
      )
        .overrideByRegexp(`.*${IDENTITY}.*`, [
          { id: 'color', value: { mode: 'fixed', fixedColor: '#888888' } },
          { id: 'custom.lineStyle', value: { fill: 'dot', dash: [2, 4] } },
        ])
        .span(12)
        .height(12),
    )
    .withPanel(
      withPrunerStyle(
        seriesXYChart(
          'Layerwise effective density at target compression $compression (mean over seeds)',
          q.sql(
            `SELECT ${SERIES} AS series, layer_index,
                  avg(1 - effective_sparsity) AS effective_density
           FROM layer_sparsity_view
           WHERE ${selection()} AND target_compression = $compression
           GROUP BY arch, pruner, pruning_type, layer_index
           HAVING avg(1 - effective_sparsity) > 0
           ORDER BY series, layer_index`,
            ['series', 'layer_index', 'effective_density'],
          ),
          'series',
        ).overrideByName('effective_density', [LOG10_AXIS, { id: 'unit', value: 'percentunit' }]),
      )
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
