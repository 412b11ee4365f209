// (c) Trial detail: summary, loss and accuracy curves, attempts and the layer table of one trial.
import * as common from '@grafana/grafana-foundation-sdk/common';
import { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import { type BuiltDashboard, finish } from './built.ts';
import { seriesXYChart } from './panels.ts';
import { QuerySet } from './sql.ts';
import { selectionVariables, trialVariable } from './variables.ts';

const TRIAL_DETAIL_UID = 'esweep-trial-detail';

const curveSql = (names: string[]) =>
  `SELECT name, step, value FROM metric_curve_view
   WHERE trial_id = '$trial' AND name IN (${names.map((n) => `'${n}'`).join(', ')})
   ORDER BY name, step`;

export function trialDetail(): BuiltDashboard {
  const q = new QuerySet();
  const board = new DashboardBuilder('esweep · trial detail')
    .uid(TRIAL_DETAIL_UID)
    .tags(['esweep'])
    .time({ from: 'now-7d', to: 'now' })
    .refresh('30s')
    .variables([...selectionVariables(), trialVariable()])
    .withPanel(
      new stat.PanelBuilder()
        .title('Trial')
        .withTarget(
          q.sql(
            `SELECT status::text AS status, disconnected, attempts, accuracy, best_accuracy, direct_compression,
                    effective_compression, seconds
             FROM results_view WHERE trial_id = '$trial'`,
            [
              'status',
              'disconnected',
              'attempts',
              'accuracy',
              'best_accuracy',
              'direct_compression',
              'effective_compression',
              'seconds',
            ],
          ),
        )
        .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).fields('/.*/'))
        .overrideByRegexp('.*accuracy', [{ id: 'unit', value: 'percentunit' }])
        .overrideByName('seconds', [{ id: 'unit', value: 's' }])
        .span(24)
        .height(4),
    )
    .withPanel(
      seriesXYChart('Loss', q.sql(curveSql(['train/loss', 'test/loss']), ['name', 'step', 'value']), 'name')
        .span(12)
        .height(10),
    )
    .withPanel(
      seriesXYChart('Test accuracy', q.sql(curveSql(['test/accuracy']), ['name', 'step', 'value']), 'name')
        .unit('percentunit')
        .span(12)
        .height(10),
    )
    .withPanel(
      new table.PanelBuilder()
        .title('Layers')
        .withTarget(
          q.sql(
            `SELECT layer_index, layer, array_to_string(shape, '×') AS shape, params, direct, effective,
                    direct_sparsity, effective_sparsity
             FROM layer_sparsity_view WHERE trial_id = '$trial' ORDER BY layer_index`,
            [
              'layer_index',
              'layer',
              'shape',
              'params',
              'direct',
              'effective',
              'direct_sparsity',
              'effective_sparsity',
            ],
          ),
        )
        .overrideByRegexp('.*_sparsity', [{ id: 'unit', value: 'percentunit' }])
        .span(14)
        .height(10),
    )
    .withPanel(
      new table.PanelBuilder()
        .title('Attempts')
        .withTarget(
          q.sql(
            `SELECT attempt, status, job_name, host, backend, device, gpu, tfjs_version, image_tag, step,
                    total_steps, started_at, finished_at, error
             FROM attempts_view WHERE trial_id = '$trial' ORDER BY attempt`,
            [
              'attempt',
              'status',
              'job_name',
              'host',
              'backend',
              'device',
              'gpu',
              'tfjs_version',
              'image_tag',
              'step',
              'total_steps',
              'started_at',
              'finished_at',
              'error',
            ],
          ),
        )
        .span(10)
        .height(10),
    );
  return finish('trial-detail.json', board, q.all);
}
