// (a) Sweep overview: trials by state, throughput, failures and their errors, running Jobs, ETA.
import * as common from '@grafana/grafana-foundation-sdk/common';
import { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { TERMINAL_STATUSES, TRIAL_STATUSES } from '../orchestrator/store/trial-state.ts';
import { type BuiltDashboard, finish } from './built.ts';
import { QuerySet } from './sql.ts';
import { selection, selectionVariables } from './variables.ts';

const SWEEP_OVERVIEW_UID = 'esweep-sweep-overview';

/** Trials still to finish: the ETA's numerator. */
const REMAINING = TRIAL_STATUSES.filter((s) => !TERMINAL_STATUSES.includes(s));

export function sweepOverview(): BuiltDashboard {
  const q = new QuerySet();
  const lastValue = new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false);
  const board = new DashboardBuilder('esweep · sweep overview')
    .uid(SWEEP_OVERVIEW_UID)
    .tags(['esweep'])
    .time({ from: 'now-24h', to: 'now' })
    .refresh('30s')
    .variables(selectionVariables())
    .withPanel(
      new stat.PanelBuilder()
        .title('Trials by state')
        .withTarget(
          q.sql(
            `SELECT ${TRIAL_STATUSES.map((s) => `(count(*) FILTER (WHERE status = '${s}'))::int AS ${s}`).join(', ')}
             FROM results_view WHERE ${selection()}`,
            TRIAL_STATUSES,
          ),
        )
        .reduceOptions(lastValue)
        .span(16)
        .height(5),
    )
    .withPanel(
      new stat.PanelBuilder()
        .title('ETA')
        .description(
          `Trials left (${REMAINING.join(', ')}) divided by the completion rate of the last hour ` +
            '(or since the first start, if younger).',
        )
        .withTarget(
          q.sql(
            `WITH f AS (SELECT status, started_at, finished_at FROM results_view WHERE ${selection()}),
                  w AS (SELECT greatest(now() - interval '1 hour', min(started_at)) AS since FROM f),
                  s AS (
                    SELECT count(*) FILTER (WHERE status IN (${REMAINING.map((s) => `'${s}'`).join(', ')})) AS remaining,
                           count(*) FILTER (WHERE status = 'completed' AND finished_at > w.since) AS recent,
                           extract(epoch FROM now() - w.since) AS window_s
                    FROM f, w GROUP BY w.since)
             SELECT remaining::int AS remaining,
                    (recent * 3600 / nullif(window_s, 0))::float8 AS trials_per_hour,
                    (remaining * window_s / nullif(recent, 0))::float8 AS eta_seconds
             FROM s`,
            ['remaining', 'trials_per_hour', 'eta_seconds'],
          ),
        )
        .reduceOptions(lastValue)
        .overrideByName('eta_seconds', [{ id: 'unit', value: 's' }])
        .span(8)
        .height(5),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Throughput (trials finished per interval)')
        .withTarget(
          q.sql(
            `SELECT $__timeGroupAlias(finished_at, '5m'),
                    (count(*) FILTER (WHERE status = 'completed'))::int AS completed,
                    (count(*) FILTER (WHERE status = 'failed'))::int AS failed
             FROM results_view
             WHERE ${selection()} AND finished_at IS NOT NULL AND $__timeFilter(finished_at)
             GROUP BY 1 ORDER BY 1`,
            ['time', 'completed', 'failed'],
            'time_series',
          ),
        )
        .drawStyle(common.GraphDrawStyle.Bars)
        .span(24)
        .height(8),
    )
    .withPanel(
      new table.PanelBuilder()
        .title('Failures by error')
        .withTarget(
          q.sql(
            `SELECT split_part(coalesce(error, '(no message)'), E'\\n', 1) AS error,
                    count(*)::int AS attempts,
                    count(DISTINCT trial_id)::int AS trials,
                    bool_or(retryable) AS retryable,
                    max(finished_at) AS last_seen
             FROM attempts_view WHERE ${selection()} AND status = 'failed'
             GROUP BY 1 ORDER BY attempts DESC`,
            ['error', 'attempts', 'trials', 'retryable', 'last_seen'],
          ),
        )
        .span(10)
        .height(9),
    )
    .withPanel(
      new table.PanelBuilder()
        .title('Failed attempts')
        .withTarget(
          q.sql(
            `SELECT finished_at, trial_id, attempt, arch, pruner, pruning_type, target_compression, seed,
                    retryable, error
             FROM attempts_view WHERE ${selection()} AND status = 'failed'
             ORDER BY finished_at DESC NULLS LAST LIMIT 200`,
            [
              'finished_at',
              'trial_id',
              'attempt',
              'arch',
              'pruner',
              'pruning_type',
              'target_compression',
              'seed',
              'retryable',
              'error',
            ],
          ),
        )
        .span(14)
        .height(9),
    )
    .withPanel(
      new table.PanelBuilder()
        .title('Running Jobs')
        .withTarget(
          q.sql(
            `SELECT job_name, status, host, arch, pruner, pruning_type, target_compression, seed, attempt,
                    step, total_steps, step::float8 / nullif(total_steps, 0) AS progress,
                    started_at, extract(epoch FROM now() - heartbeat_at)::float8 AS heartbeat_age_s
             FROM attempts_view
             WHERE ${selection()} AND is_current AND status IN ('queued', 'running')
             ORDER BY started_at NULLS LAST`,
            [
              'job_name',
              'status',
              'host',
              'arch',
              'pruner',
              'pruning_type',
              'target_compression',
              'seed',
              'attempt',
              'step',
              'total_steps',
              'progress',
              'started_at',
              'heartbeat_age_s',
            ],
          ),
        )
        .overrideByName('progress', [{ id: 'unit', value: 'percentunit' }])
        .overrideByName('heartbeat_age_s', [{ id: 'unit', value: 's' }])
        .span(24)
        .height(9),
    );
  return finish('sweep-overview.json', board, q.all);
}
