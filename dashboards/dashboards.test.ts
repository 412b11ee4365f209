// The dashboards' JSON is sane (unique uids and panel ids, no overlapping panels, data source by
// variable), and every panel's SQL runs against a freshly migrated database seeded through the real
// ingest path (the in-process transport and the Ingester) and returns the columns the panel maps.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { LayerCounts } from '../orchestrator/events/protocol.ts';
import { TrialReporter } from '../orchestrator/events/publisher.ts';
import { startEmbeddedPipeline } from '../orchestrator/ingest/embedded.ts';
import { prunerColors } from '../orchestrator/report/charts.ts';
import {
  createTestDatabase,
  TEST_TRIAL_DOCUMENT,
  type TestDatabase,
  testSweepSpec,
} from '../orchestrator/store/test-support.ts';
import { prunerNames } from '../worker/pruners/catalog.ts';
import { buildDashboards, dashboardFiles } from './index.ts';
import { DATASOURCE_VARIABLE, POSTGRES_DATASOURCE_TYPE } from './sql.ts';
import { interpolate, type VariableValues } from './test-support.ts';
import { VARIABLE_SQL } from './variables.ts';

const built = buildDashboards();
const byVariable = { type: POSTGRES_DATASOURCE_TYPE, uid: `\${${DATASOURCE_VARIABLE}}` };

interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}
const overlaps = (a: GridPos, b: GridPos) =>
  a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

describe('dashboard JSON', () => {
  it('has unique dashboard uids and file names', () => {
    assert.equal(new Set(built.map((b) => b.dashboard.uid)).size, built.length);
    assert.equal(Object.keys(dashboardFiles()).length, built.length);
  });

  for (const { file, dashboard, queries } of built) {
    const panels = dashboard.panels ?? [];
    it(`${file}: panel ids unique, panels inside the grid and not overlapping`, () => {
      assert.ok(panels.length >= 4);
      const ids = panels.map((p) => p.id);
      assert.ok(ids.every((id) => Number.isInteger(id)));
      assert.equal(new Set(ids).size, panels.length);
      const grid = panels.map((p) => p.gridPos as GridPos);
      for (const [i, a] of grid.entries()) {
        assert.ok(a && a.x >= 0 && a.w > 0 && a.h > 0 && a.x + a.w <= 24, `panel ${ids[i]} outside the grid`);
        for (const b of grid.slice(i + 1))
          assert.ok(!overlaps(a, b), `${JSON.stringify(a)} overlaps ${JSON.stringify(b)}`);
      }
    });

    it(`${file}: every panel, target and query variable reads the data source by variable`, () => {
      const json = JSON.parse(dashboardFiles()[file]!);
      const variables = json.templating.list as {
        type: string;
        name: string;
        query: unknown;
        datasource?: unknown;
      }[];
      assert.deepEqual(
        variables.find((v) => v.type === 'datasource'),
        {
          ...variables.find((v) => v.type === 'datasource'),
          name: DATASOURCE_VARIABLE,
          query: POSTGRES_DATASOURCE_TYPE,
        },
      );
      for (const variable of variables.filter((v) => v.type === 'query'))
        assert.deepEqual(variable.datasource, byVariable);
      for (const variable of ['sweep', 'arch', 'pruner', 'type'])
        assert.ok(
          variables.some((v) => v.name === variable),
          `variable ${variable} missing`,
        );
      for (const panel of json.panels) {
        assert.ok(panel.targets.length > 0, `panel ${panel.title} has no query`);
        for (const target of panel.targets) {
          assert.deepEqual(target.datasource, byVariable);
          assert.equal(target.rawQuery, true);
          assert.ok(['table', 'time_series'].includes(target.format));
        }
      }
      const rawSql = json.panels.flatMap((p: { targets: { rawSql: string }[] }) =>
        p.targets.map((t) => t.rawSql),
      );
      assert.deepEqual(rawSql.sort(), queries.map((q) => q.rawSql).sort(), 'every panel query is tested');
    });
  }
});

// A small sweep: 2 pruners × 2 types × 2 compressions × 2 seeds completed, one failed trial, one running.
const LAYERS = [
  { name: 'fc1', shape: [300, 784] },
  { name: 'fc2', shape: [100, 300] },
  { name: 'fc3', shape: [10, 100] },
];

function layerCounts(compression: number, effectiveShare: number): LayerCounts[] {
  return LAYERS.map(({ name, shape }) => {
    const params = shape[0]! * shape[1]!;
    const direct = Math.round(params / compression);
    return { name, shape, params, direct, effective: Math.floor(direct * effectiveShare) };
  });
}

describe('dashboard SQL against a migrated database seeded through the ingester', () => {
  let db: TestDatabase;
  let client: pg.Client;
  let values: VariableValues;
  const range = { from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() + 60_000) };

  before(async () => {
    db = await createTestDatabase('dashboards');
    const trials = [];
    for (const pruner of ['random/uniform', 'snip'])
      for (const pruningType of ['direct', 'effective'] as const)
        for (const targetCompression of [10, 100])
          for (const seed of [0, 1])
            trials.push({ pruner, pruningType, targetCompression, seed, outcome: 'completed' });
    trials.push({
      pruner: 'synflow',
      pruningType: 'direct' as const,
      targetCompression: 10,
      seed: 0,
      outcome: 'failed',
    });
    trials.push({
      pruner: 'synflow',
      pruningType: 'direct' as const,
      targetCompression: 100,
      seed: 0,
      outcome: 'running',
    });
    const { sweep } = await db.store.submitSweep(
      { name: 'dashboards', spec: testSweepSpec('dashboards') },
      trials.map((t, i) => ({
        key: `k${i}`,
        arch: 'lenet300100',
        dataset: 'mnist',
        pruner: t.pruner,
        pruningType: t.pruningType,
        targetSparsity: 1 - 1 / t.targetCompression,
        targetCompression: t.targetCompression,
        seed: t.seed,
        budget: { iterations: 30 },
        params: TEST_TRIAL_DOCUMENT,
      })),
    );
    const rows = await db.store.listTrials(sweep.id);
    const pipeline = startEmbeddedPipeline(db.store);
    const publisher = pipeline.publisher();
    for (const [i, t] of trials.entries()) {
      const trial = rows.find((r) => r.key === `k${i}`)!;
      const attempt = await db.store.startAttempt(trial.id, (n) => `esweep-dashboards-k${i}-${n}`);
      const reporter = new TrialReporter(publisher, {
        sweepId: sweep.id,
        trialId: trial.id,
        attempt: attempt.number,
      });
      await reporter.started({
        host: `node-${i % 2}`,
        backend: 'wasm',
        jobName: attempt.jobName ?? undefined,
        totalSteps: 30,
      });
      await reporter.progress({ step: 10, totalSteps: 30, phase: 'train' });
      await reporter.heartbeat({ step: 10 });
      if (t.outcome === 'running') continue;
      if (t.outcome === 'failed') {
        await reporter.failed({ error: 'CUDA out of memory\n  at conv2d', retryable: false });
        continue;
      }
      const share = t.pruningType === 'effective' ? 0.95 : 0.8;
      const layers = layerCounts(t.targetCompression, share);
      const total = layers.reduce((s, l) => s + l.params, 0);
      const direct = layers.reduce((s, l) => s + l.direct, 0);
      const effective = layers.reduce((s, l) => s + l.effective, 0);
      await reporter.sparsity({
        layers,
        overall: {
          total,
          direct,
          effective,
          directSparsity: 1 - direct / total,
          effectiveSparsity: 1 - effective / total,
        },
      });
      for (let step = 10; step <= 30; step += 10)
        await reporter.metrics([
          { step, name: 'train/loss', value: 2 / step },
          { step, name: 'test/loss', value: 2.2 / step },
          { step, name: 'test/accuracy', value: 0.9 - 1 / step - t.seed * 0.01 },
        ]);
      await reporter.completed({
        accuracy: 0.85 - t.seed * 0.01 - t.targetCompression / 1000,
        bestAccuracy: 0.86,
        loss: 0.4,
        seconds: 12,
        directSparsity: 1 - direct / total,
        effectiveSparsity: 1 - effective / total,
      });
    }
    await publisher.flush();
    await pipeline.stop();
    assert.equal(pipeline.ingester.stats.deadLetters, 0);

    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    // Concrete values the way Grafana picks them: from the variables' own queries, "All" where multi.
    const options = async (sql: string, field: string) =>
      (await client.query(interpolate(sql, values, range))).rows.map((r) => String(r[field]));
    values = { sweep: (await options(VARIABLE_SQL.sweep, '__value'))[0]! };
    values.arch = await options(VARIABLE_SQL.arch, 'arch');
    values.pruner = await options(VARIABLE_SQL.pruner, 'pruner');
    values.type = await options(VARIABLE_SQL.type, 'pruning_type');
    values.compression = (await options(VARIABLE_SQL.compression, 'target_compression'))[0]!;
    const completed = await client.query(
      "SELECT trial_id FROM results_view WHERE status = 'completed' ORDER BY key LIMIT 1",
    );
    values.trial = completed.rows[0].trial_id;
  });

  after(async () => {
    await client?.end();
    await db?.dispose();
  });

  it('variables offer the seeded sweep, architectures, pruners, types, compressions and trials', async () => {
    assert.deepEqual(values.arch, ['lenet300100']);
    assert.deepEqual(values.pruner, ['random/uniform', 'snip', 'synflow']);
    assert.deepEqual(values.type, ['direct', 'effective']);
    assert.equal(values.compression, '10');
    const trials = await client.query(interpolate(VARIABLE_SQL.trial, values, range));
    assert.equal(trials.rowCount, 18);
    assert.deepEqual(Object.keys(trials.rows[0]), ['__text', '__value']);
  });

  for (const { file, queries } of built) {
    for (const query of queries) {
      it(`${file}: ${query.rawSql.slice(0, 70)}… returns ${query.columns.join(', ')}`, async () => {
        const result = await client.query(interpolate(query.rawSql, values, range));
        assert.deepEqual(
          result.fields.map((f) => f.name),
          [...query.columns],
        );
        assert.ok(result.rowCount! > 0, 'the seeded sweep yields rows');
      });
    }
  }

  it('panels see what was ingested: states, failures, running Jobs, curves and layers', async () => {
    const run = async (file: string, fragment: string) => {
      const query = built.find((b) => b.file === file)!.queries.find((q) => q.rawSql.includes(fragment))!;
      return (await client.query(interpolate(query.rawSql, values, range))).rows;
    };
    assert.deepEqual(await run('sweep-overview.json', 'AS pending'), [
      { pending: 0, queued: 0, running: 1, completed: 16, failed: 1, cancelled: 0 },
    ]);
    const [eta] = await run('sweep-overview.json', 'eta_seconds');
    assert.equal(eta.remaining, 1);
    assert.ok(eta.trials_per_hour > 0 && eta.eta_seconds > 0);
    const errors = await run('sweep-overview.json', 'split_part');
    assert.deepEqual(
      errors.map((r) => [r.error, r.attempts]),
      [['CUDA out of memory', 1]],
    );
    const jobs = await run('sweep-overview.json', "status IN ('queued', 'running')");
    assert.equal(jobs.length, 1);
    assert.match(jobs[0].job_name, /^esweep-dashboards-k\d+-1$/);
    assert.equal(jobs[0].progress, 10 / 30);
    const curves = await run('trial-detail.json', "'train/loss'");
    assert.equal(curves.length, 6);
    const layers = await run('trial-detail.json', 'array_to_string');
    assert.deepEqual(
      layers.map((l) => [l.layer, l.shape, Number(l.params)]),
      [
        ['fc1', '300×784', 235200],
        ['fc2', '100×300', 30000],
        ['fc3', '10×100', 1000],
      ],
    );
    const accuracy = await run('effective-sparsity.json', 'accuracy_lo');
    assert.equal(accuracy.length, 8, 'one point per pruner, type and compression');
    for (const point of accuracy) {
      // two seeds 1 pp apart: std = 0.01 / √2 on either side of the mean
      assert.ok(Math.abs(point.accuracy_hi - point.accuracy_mean - 0.01 / Math.SQRT2) < 1e-9, 'mean + std');
      assert.ok(Math.abs(point.accuracy_mean - point.accuracy_lo - 0.01 / Math.SQRT2) < 1e-9, 'mean − std');
    }
    assert.match(accuracy[0].series, /^random\/uniform \(direct\) · lenet300100$/);
    const compression = await run('effective-sparsity.json', 'UNION ALL');
    const identity = compression.filter((r) => r.series === 'y = x');
    assert.equal(identity.length, 2, 'y = x from the lowest to the highest compression');
    assert.ok(identity.every((r) => r.direct_compression === r.effective_compression));
    const density = await run('effective-sparsity.json', 'effective_density');
    assert.ok(density.every((r) => r.effective_density > 0 && r.effective_density < 1));
  });
});

describe('effective-sparsity panels style series as the report does', () => {
  const panels = built.find((b) => b.file === 'effective-sparsity.json')!.dashboard.panels as {
    title: string;
    fieldConfig: {
      overrides: { matcher: { id: string; options: string }; properties: { id: string; value: unknown }[] }[];
    };
  }[];
  const accuracy = panels.find((p) => p.title.startsWith('Test accuracy'))!;
  const colourOf = (series: string) =>
    accuracy.fieldConfig.overrides
      .filter((o) => o.matcher.id === 'byRegexp' && new RegExp(`^${o.matcher.options}$`).test(series))
      .flatMap((o) => o.properties.filter((p) => p.id === 'color'))
      .map((p) => (p.value as { fixedColor: string }).fixedColor);

  it('one colour per pruner, the same as the report, matched on the whole pruner name', () => {
    const colours = prunerNames().map((p) => colourOf(`${p} (effective) · lenet300100`));
    assert.ok(
      colours.every((c) => c.length === 1),
      JSON.stringify(colours),
    );
    assert.equal(new Set(colours.map((c) => c[0])).size, prunerNames().length);
    assert.deepEqual(colourOf('random/snip (direct) · vgg19'), prunerColors(['random/snip']));
    // the mean ± std fields of a series carry its name too (Grafana's display name)
    assert.deepEqual(colourOf('accuracy_lo snip (direct) · lenet300100'), prunerColors(['snip']));
  });

  it('dashes direct pruning, and draws the band edges thin and dotted after it', () => {
    const styles = accuracy.fieldConfig.overrides.filter((o) =>
      o.properties.some((p) => p.id === 'custom.lineStyle'),
    );
    const last = (series: string) =>
      styles.filter((o) => new RegExp(`^${o.matcher.options}$`).test(series)).at(-1)?.properties[0]?.value;
    assert.deepEqual(last('accuracy_mean snip (direct) · lenet300100'), { fill: 'dash', dash: [10, 6] });
    assert.equal(last('accuracy_mean snip (effective) · lenet300100'), undefined);
    assert.deepEqual(last('accuracy_hi snip (direct) · lenet300100'), { fill: 'dot', dash: [1, 3] });
  });
});
