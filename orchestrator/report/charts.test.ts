// The figures' specifications and their offline SVG: what each plots, and that it draws.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prunerNames } from '../../worker/pruners/catalog.ts';
import type { ResultRow } from '../query/index.ts';
import { resultRow } from '../query/test-support.ts';
import {
  accuracySpec,
  chosenTargets,
  compressionSpec,
  curvesSpec,
  DASHES,
  layerwiseSpec,
  PALETTE,
  prunerColors,
  renderSvg,
} from './charts.ts';

/** Two pruners × two types × two targets × two seeds. */
function sweep(): ResultRow[] {
  return ['synflow', 'random/uniform'].flatMap((pruner) =>
    (['direct', 'effective'] as const).flatMap((pruningType) =>
      [10, 100].flatMap((target) =>
        [0, 1].map((seed) =>
          resultRow({
            trialId: `${pruner}-${pruningType}-${target}-${seed}`,
            pruner,
            pruningType,
            targetCompression: target,
            seed,
            directCompression: target,
            effectiveCompression:
              pruningType === 'direct' && pruner === 'random/uniform' ? target * 4 : target,
            accuracy: 0.9 - target / 1000 - seed * 0.02,
          }),
        ),
      ),
    ),
  );
}

type Values = Record<string, unknown>[];
// The specs are plain objects; the tests read the parts they check.
const valuesOf = (spec: object) => (spec as { data: { values: Values } }).data.values;
const layersOf = (spec: object) =>
  (
    spec as {
      spec: { layer: { mark: { type: string }; encoding: Record<string, Record<string, unknown>> }[] };
    }
  ).spec.layer;

describe('report figures', () => {
  it('accuracy: a colour per pruner, a dash per type, mean ± std bands and every trial as a point', () => {
    const rows = [...sweep(), resultRow({ pruner: 'snip', effectiveCompression: Number.POSITIVE_INFINITY })];
    const spec = accuracySpec(rows);
    const [band, line, points] = layersOf(spec);
    assert.deepEqual(band!.mark.type, 'area');
    assert.deepEqual([band!.encoding.y!.field, band!.encoding.y2!.field], ['lo', 'hi']);
    const color = line!.encoding.color!.scale as { domain: string[]; range: string[] };
    assert.deepEqual(color.domain, ['random/uniform', 'snip', 'synflow']);
    assert.equal(new Set(color.range).size, 3);
    assert.deepEqual(line!.encoding.strokeDash!.scale, {
      domain: ['effective', 'direct'],
      range: [DASHES.effective, DASHES.direct],
    });
    assert.deepEqual(line!.encoding.x!.scale, { type: 'log' });
    assert.equal(points!.encoding.description!.field, 'text');
    const values = valuesOf(spec);
    // 2 pruners × 2 types × 2 targets means; 16 trials; the disconnected snip trial is left out.
    assert.equal(values.filter((v) => v.kind === 'mean').length, 8);
    assert.equal(values.filter((v) => v.kind === 'trial').length, 16);
    const mean = values.find((v) => v.kind === 'mean' && v.pruner === 'synflow' && v.x === 10)!;
    const std = 0.02 / Math.SQRT2;
    assert.ok(Math.abs((mean.hi as number) - (mean.lo as number) - 2 * std) < 1e-12, 'band = mean ± std');
    assert.equal(mean.n, 2);
  });

  it('gives every built-in pruner its own colour, fixed by name, and unknown ones a free colour', () => {
    const all = prunerNames();
    assert.equal(new Set(prunerColors(all)).size, all.length);
    assert.equal(new Set(PALETTE).size, PALETTE.length);
    assert.deepEqual(prunerColors(['random/uniform', 'synflow']), [PALETTE[0], PALETTE[4]]);
    assert.deepEqual(prunerColors(['synflow']), [PALETTE[4]]);
    const [mine, other] = prunerColors(['my/pruner', 'their/pruner']);
    assert.ok(mine && other && mine !== other);
  });

  it('compression: y = x over the range of each architecture, and the gap of direct random pruning', () => {
    const values = valuesOf(compressionSpec(sweep()));
    assert.deepEqual(
      values.filter((v) => v.kind === 'identity').map((v) => [v.x, v.y]),
      [
        [10, 10],
        [400, 400],
      ],
    );
    const uniform = values.find(
      (v) => v.kind === 'mean' && v.pruner === 'random/uniform' && v.type === 'direct' && v.x === 100,
    );
    assert.equal(uniform?.y, 400);
  });

  it('layerwise: effective density per layer at up to three targets, layers in network order', () => {
    assert.deepEqual(
      chosenTargets([1, 10, 30, 100, 300, 1000].map((t) => resultRow({ targetCompression: t }))),
      [1, 30, 1000],
    );
    const rows = sweep();
    const layers = rows.flatMap((r) =>
      ['fc2', 'fc1'].map((name) => ({
        trialId: r.trialId,
        idx: name === 'fc1' ? 0 : 1,
        name,
        params: 100,
        direct: 10,
        effective: name === 'fc2' && r.seed === 1 ? 0 : 5,
      })),
    );
    const spec = layerwiseSpec('lenet300100', rows, layers)!;
    const x = layersOf(spec)[0]!.encoding.x!;
    assert.deepEqual(x.sort, ['fc1', 'fc2']);
    const fc2 = valuesOf(spec).find((v) => v.layer === 'fc2' && v.pruner === 'synflow')!;
    assert.equal(fc2.density, 0.025, 'mean of 5/100 and 0/100 over the seeds');
    assert.equal(layerwiseSpec('vgg19', rows, layers), null);
  });

  it('renders offline to SVG, with hover titles on the points and none on lines or bands', async () => {
    const svg = await renderSvg(accuracySpec(sweep()));
    assert.match(svg, /^<svg /);
    const titles = [...svg.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1]!);
    assert.equal(titles.length, 16);
    assert.ok(
      titles.includes(
        'synflow (direct), target ×100.0, seed 1: accuracy 78.00%, direct ×100.0, effective ×100.0',
      ),
    );
    for (const color of prunerColors(['random/uniform', 'synflow']))
      assert.ok(svg.includes(`stroke="${color}"`), `a line in ${color}`);
    assert.ok(svg.includes('stroke-dasharray="6,4"'), 'direct pruning dashed');
  });

  it('curves: one panel per curve, nothing when there are none', async () => {
    assert.equal(curvesSpec('t', {}), null);
    const spec = curvesSpec('t', { 'train/loss': [{ step: 1, value: 2 }], lr: [{ step: 1, value: 0.1 }] })!;
    assert.deepEqual(
      valuesOf(spec).map((v) => v.name),
      ['train/loss', 'lr'],
    );
    assert.match(await renderSvg(spec), /train\/loss at step 1: 2\.000/);
  });

  it('curves of one step and one value label their axes 100 and 0.1, not 100.000000', async () => {
    const svg = await renderSvg(
      curvesSpec('t', { 'test/accuracy': [{ step: 100, value: 0.5 }], lr: [{ step: 100, value: 0.1 }] })!,
    );
    const labels = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    assert.ok(labels.includes('100'), labels.join(' | '));
    assert.ok(labels.includes('0.1'), labels.join(' | '));
    assert.ok(!labels.some((label) => /\.\d*000$/.test(label)), labels.join(' | '));
  });
});
