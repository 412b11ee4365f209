// The report's figures as Vega-Lite specifications (pure: data in, spec out), and their rendering to
// inline SVG in Node through Vega's headless view (no browser, no network). Colour is the pruner
// (one colour per pruner, the same in every figure), the line's dash is the pruning type, bands are
// mean ± std over the seeds, and every single trial is a point whose hover text gives its values.
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { formatCompression } from '../../common/format.ts';
import { prunerNames } from '../../worker/pruners/catalog.ts';
import type { ResultRow } from '../query/index.ts';
import type { LayerRow } from '../store/store.ts';

export type { LayerRow };

export interface CurvePoint {
  step: number;
  value: number;
}

/**
 * Distinct categorical colours, one per pruner: Tableau 10, then colours from Kelly's list of maximum
 * contrast that none of those resembles (a sweep of every built-in pruner needs 16).
 */
export const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
  '#1b1b1b',
  '#8db600',
  '#604e97',
  '#882d17',
  '#0067a5',
  '#dcd300',
  '#e25822',
  '#2b3d26',
];
/** The paper's pruners first, so they get Tableau's strongest colours; then the rest of the catalog. */
const PREFERRED = [
  'random/uniform',
  'random/erk',
  'random/igq',
  'snip',
  'synflow',
  'grasp',
  'magnitude/global',
  'lamp',
  'random/uniform_plus',
  'dense',
];
const COLOR_ORDER = [...PREFERRED, ...prunerNames().filter((p) => !PREFERRED.includes(p))];

/**
 * Each pruner's colour, fixed by its name so that it is the same in every report and in Grafana;
 * pruners outside the catalog get the colours no pruner of `pruners` has taken.
 */
export function prunerColors(pruners: string[]): string[] {
  const fixed = pruners.map((p) => {
    const k = COLOR_ORDER.indexOf(p);
    return k >= 0 && k < PALETTE.length ? PALETTE[k]! : undefined;
  });
  const free = PALETTE.filter((c) => !fixed.includes(c));
  let next = 0;
  return fixed.map((c) => c ?? free[next++ % free.length]!);
}

/** Effective pruning is the solid line, direct pruning the dashed one. */
export const DASHES: Record<string, number[]> = { effective: [1, 0], direct: [6, 4] };

const finite = (v: number | null): v is number => v !== null && Number.isFinite(v);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: number[]) => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
};
const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

/** The colour and dash scales every figure shares, so a pruner looks the same everywhere. */
function styleScales(pruners: string[]) {
  const types = Object.keys(DASHES);
  return {
    color: {
      field: 'pruner',
      type: 'nominal' as const,
      title: 'pruner',
      scale: { domain: pruners, range: prunerColors(pruners) },
    },
    strokeDash: {
      field: 'type',
      type: 'nominal' as const,
      title: 'pruning type',
      scale: { domain: types, range: types.map((t) => DASHES[t]!) },
    },
  };
}

/** The pruners of a sweep in the order their colours are assigned (sorted, so stable across reports). */
export const prunersOf = (rows: Pick<ResultRow, 'pruner'>[]) =>
  [...new Set(rows.map((r) => r.pruner))].sort();

const logAxis = (title: string) => ({
  type: 'quantitative' as const,
  title,
  scale: { type: 'log' as const },
});

const CONFIG = {
  font: 'system-ui, sans-serif',
  view: { stroke: '#ccc' },
  axis: { gridColor: '#eee' },
  legend: { orient: 'right' as const, symbolOpacity: 1 },
};

interface Group<T> {
  key: string;
  rows: T[];
}
function groupBy<T>(rows: T[], key: (row: T) => string): Group<T>[] {
  const groups = new Map<string, T[]>();
  for (const row of rows) groups.set(key(row), [...(groups.get(key(row)) ?? []), row]);
  return [...groups].map(([k, rs]) => ({ key: k, rows: rs }));
}

const seriesKey = (r: Pick<ResultRow, 'arch' | 'pruner' | 'pruningType' | 'targetCompression'>) =>
  `${r.arch}\u0000${r.pruner}\u0000${r.pruningType}\u0000${r.targetCompression}`;

const trialText = (r: ResultRow) =>
  `${r.pruner} (${r.pruningType}), target ×${formatCompression(r.targetCompression)}, seed ${r.seed}: accuracy ${pct(r.accuracy!)}, direct ×${formatCompression(r.directCompression!)}, effective ×${formatCompression(r.effectiveCompression!)}`;

/** Completed trials with both compressions finite (an empty network's ∞ has no place on a log axis). */
/** One point per trial, with its hover text, at (x(r), y(r)). */
const trialPoints = (rows: ResultRow[], x: (r: ResultRow) => number, y: (r: ResultRow) => number) =>
  rows.map((r) => ({
    kind: 'trial',
    arch: r.arch,
    pruner: r.pruner,
    type: r.pruningType,
    x: x(r),
    y: y(r),
    text: trialText(r),
  }));

export const plottable = (rows: ResultRow[]) =>
  rows.filter((r) => r.accuracy !== null && finite(r.effectiveCompression) && finite(r.directCompression));

/**
 * Test accuracy against effective compression, one panel per architecture: per pruner and type, the
 * mean over seeds at each target as a line, ± std as a band, and each trial as a point.
 */
export function accuracySpec(results: ResultRow[]): TopLevelSpec {
  const rows = plottable(results);
  const means = groupBy(rows, seriesKey).map(({ rows: at }) => {
    const accuracy = at.map((r) => r.accuracy!);
    const m = mean(accuracy);
    const s = std(accuracy);
    const first = at[0]!;
    const x = mean(at.map((r) => r.effectiveCompression!));
    return {
      kind: 'mean',
      arch: first.arch,
      pruner: first.pruner,
      type: first.pruningType,
      series: `${first.pruner} (${first.pruningType})`,
      x,
      y: m,
      lo: m - s,
      hi: m + s,
      n: at.length,
      text: `${first.pruner} (${first.pruningType}) at effective ×${formatCompression(x)}: ${pct(m)} ± ${pct(s)} (n=${at.length})`,
    };
  });
  const trials = trialPoints(
    rows,
    (r) => r.effectiveCompression!,
    (r) => r.accuracy!,
  );
  const { color, strokeDash } = styleScales(prunersOf(results));
  const x = { field: 'x', ...logAxis('effective compression (log)') };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    data: { values: [...means, ...trials] },
    facet: { field: 'arch', type: 'nominal', title: null },
    columns: 2,
    spec: {
      width: 380,
      height: 260,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'mean'" }],
          mark: { type: 'area', opacity: 0.15, aria: false },
          encoding: {
            x,
            y: { field: 'lo', type: 'quantitative', scale: { zero: false } },
            y2: { field: 'hi' },
            color,
            detail: { field: 'series' },
          },
        },
        {
          transform: [{ filter: "datum.kind === 'mean'" }],
          mark: { type: 'line', strokeWidth: 2, aria: false },
          encoding: {
            x,
            y: {
              field: 'y',
              type: 'quantitative',
              title: 'test accuracy',
              axis: { format: '.0%' },
              scale: { zero: false },
            },
            color,
            strokeDash,
            detail: { field: 'series' },
          },
        },
        {
          transform: [{ filter: "datum.kind === 'trial'" }],
          mark: { type: 'point', filled: true, size: 28, opacity: 0.8 },
          encoding: {
            x,
            y: { field: 'y', type: 'quantitative', scale: { zero: false } },
            color,
            shape: { field: 'type', type: 'nominal', legend: null },
            description: { field: 'text' },
          },
        },
      ],
    },
    resolve: { scale: { x: 'independent' } },
  } as TopLevelSpec;
}

/**
 * Effective against direct compression, one panel per architecture, with y = x (where they would
 * lie if pruning disconnected nothing): per pruner and type the mean over seeds, and each trial.
 */
export function compressionSpec(results: ResultRow[]): TopLevelSpec {
  const rows = plottable(results);
  const means = groupBy(rows, seriesKey).map(({ rows: at }) => {
    const first = at[0]!;
    return {
      kind: 'mean',
      arch: first.arch,
      pruner: first.pruner,
      type: first.pruningType,
      series: `${first.pruner} (${first.pruningType})`,
      x: mean(at.map((r) => r.directCompression!)),
      y: mean(at.map((r) => r.effectiveCompression!)),
    };
  });
  const identity = groupBy(rows, (r) => r.arch).flatMap(({ key, rows: at }) => {
    const all = at.flatMap((r) => [r.directCompression!, r.effectiveCompression!]);
    return [Math.min(...all), Math.max(...all)].map((v) => ({ kind: 'identity', arch: key, x: v, y: v }));
  });
  const trials = trialPoints(
    rows,
    (r) => r.directCompression!,
    (r) => r.effectiveCompression!,
  );
  const { color, strokeDash } = styleScales(prunersOf(results));
  const x = { field: 'x', ...logAxis('direct compression (log)') };
  const y = { field: 'y', ...logAxis('effective compression (log)') };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    data: { values: [...identity, ...means, ...trials] },
    facet: { field: 'arch', type: 'nominal', title: null },
    columns: 2,
    spec: {
      width: 380,
      height: 260,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'identity'" }],
          mark: { type: 'line', color: '#888', strokeDash: [2, 3], strokeWidth: 1, aria: false },
          encoding: { x, y },
        },
        {
          transform: [{ filter: "datum.kind === 'mean'" }],
          mark: { type: 'line', strokeWidth: 2, aria: false },
          encoding: { x, y, color, strokeDash, detail: { field: 'series' } },
        },
        {
          transform: [{ filter: "datum.kind === 'trial'" }],
          mark: { type: 'point', filled: true, size: 28, opacity: 0.8 },
          encoding: {
            x,
            y,
            color,
            shape: { field: 'type', type: 'nominal', legend: null },
            description: { field: 'text' },
          },
        },
      ],
    },
    resolve: { scale: { x: 'independent', y: 'independent' } },
  } as TopLevelSpec;
}

/** Up to three target compressions spread over the sweep's range: lowest, middle and highest. */
export function chosenTargets(rows: ResultRow[]): number[] {
  const targets = [...new Set(rows.filter((r) => r.pruner !== 'dense').map((r) => r.targetCompression))].sort(
    (a, b) => a - b,
  );
  if (targets.length <= 3) return targets;
  return [targets[0]!, targets[Math.floor((targets.length - 1) / 2)]!, targets[targets.length - 1]!];
}

/**
 * The quotas' shape on one architecture: per layer, the fraction of its weights still connected
 * (effective density, mean over seeds, log scale), one panel per chosen target compression.
 */
export function layerwiseSpec(arch: string, results: ResultRow[], layers: LayerRow[]): TopLevelSpec | null {
  const targets = chosenTargets(results.filter((r) => r.arch === arch));
  const byTrial = new Map<string, LayerRow[]>();
  for (const layer of layers) byTrial.set(layer.trialId, [...(byTrial.get(layer.trialId) ?? []), layer]);
  const rows = results.filter(
    (r) =>
      r.arch === arch &&
      r.accuracy !== null &&
      byTrial.has(r.trialId) &&
      targets.includes(r.targetCompression),
  );
  const order = new Map<string, number>();
  const values = groupBy(rows, seriesKey).flatMap(({ rows: at }) => {
    const first = at[0]!;
    const perLayer = groupBy(
      at.flatMap((r) => byTrial.get(r.trialId)!),
      (l) => l.name,
    );
    return perLayer.flatMap(({ key, rows: ls }) => {
      order.set(key, ls[0]!.idx);
      const density = mean(ls.map((l) => l.effective / l.params));
      // A layer with nothing left has no place on a log axis; its absence shows in the line.
      if (density <= 0) return [];
      return [
        {
          target: `target ×${formatCompression(first.targetCompression)}`,
          targetValue: first.targetCompression,
          pruner: first.pruner,
          type: first.pruningType,
          series: `${first.pruner} (${first.pruningType})`,
          layer: key,
          density,
          text: `${first.pruner} (${first.pruningType}), target ×${formatCompression(first.targetCompression)}, ${key}: ${(density * 100).toPrecision(3)}% of weights connected (n=${ls.length})`,
        },
      ];
    });
  });
  if (values.length === 0) return null;
  const layerOrder = [...order].sort((a, b) => a[1] - b[1]).map(([name]) => name);
  const { color, strokeDash } = styleScales(prunersOf(results));
  const x = { field: 'layer', type: 'ordinal' as const, sort: layerOrder, title: 'layer' };
  const y = { field: 'density', ...logAxis('effective density (log)') };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    data: { values },
    facet: {
      field: 'target',
      type: 'ordinal',
      title: `${arch}: layerwise effective density`,
      sort: { field: 'targetValue' },
    },
    spec: {
      width: Math.max(220, layerOrder.length * 22),
      height: 220,
      layer: [
        {
          mark: { type: 'line', strokeWidth: 1.8, aria: false },
          encoding: { x, y, color, strokeDash, detail: { field: 'series' } },
        },
        {
          mark: { type: 'point', filled: true, size: 24 },
          encoding: { x, y, color, description: { field: 'text' } },
        },
      ],
    },
  } as TopLevelSpec;
}

/** A trial's training curves, one panel per curve (its own y scale), over training steps. */
export function curvesSpec(title: string, curves: Record<string, CurvePoint[]>): TopLevelSpec | null {
  const values = Object.entries(curves).flatMap(([name, points]) =>
    points.map((p) => ({
      name,
      step: p.step,
      value: p.value,
      text: `${name} at step ${p.step}: ${p.value.toPrecision(4)}`,
    })),
  );
  if (values.length === 0) return null;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    title,
    data: { values },
    facet: { field: 'name', type: 'nominal', title: null },
    columns: 3,
    spec: {
      width: 300,
      height: 180,
      layer: [
        {
          mark: { type: 'line', color: PALETTE[0], aria: false },
          encoding: {
            // A curve of one step, or of one value, leaves Vega a one-point domain, whose default
            // tick format prints six decimals (100.000000): whole steps, and values without trailing zeros.
            x: {
              field: 'step',
              type: 'quantitative',
              title: 'step',
              axis: { format: ',d', tickMinStep: 1 },
            },
            y: {
              field: 'value',
              type: 'quantitative',
              title: null,
              scale: { zero: false },
              axis: { format: '~g' },
            },
          },
        },
        {
          mark: { type: 'point', size: 10, opacity: 0, filled: true },
          encoding: {
            x: { field: 'step', type: 'quantitative' },
            y: { field: 'value', type: 'quantitative' },
            description: { field: 'text' },
          },
        },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  } as TopLevelSpec;
}

/**
 * Vega writes a mark's description as its aria-label; a <title> child makes the same text the
 * browser's hover tooltip, which needs no script.
 */
function hoverTitles(svg: string): string {
  return svg.replace(
    /<path ([^>]*?)aria-label="([^"]*)"([^>]*?)\/>/g,
    (_, before: string, text: string, after: string) =>
      `<path ${before}aria-label="${text}"${after}><title>${text}</title></path>`,
  );
}

/** The spec drawn as a standalone `<svg>` element, offline (Vega's view with no renderer). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return hoverTitles(await view.toSVG());
  } finally {
    view.finalize();
  }
}
