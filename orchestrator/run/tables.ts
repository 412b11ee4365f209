// The tables people read at the end of a sweep (`esweep run`, `esweep sweep compare|results`):
// accuracy per pruner at matched effective compression, and each trial's direct vs effective
// compression.
import { formatCompression, formatRanOn } from '../../common/format.ts';
import { renderTable } from '../../common/table.ts';
import { type ComparePoint, type Comparison, compareResults, type ResultRow } from '../query/index.ts';

const percent = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(2)}%`);
const compression = (v: number | null) => (v === null ? '–' : formatCompression(v));

/** The comparison grid: the sweep's target compressions (its design points). */
export function targetGrid(rows: ResultRow[]): number[] {
  return [...new Set(rows.filter((r) => r.pruner !== 'dense').map((r) => r.targetCompression))].sort(
    (a, b) => a - b,
  );
}

/**
 * The comparison every view of a sweep shows (`esweep run`, `sweep compare`, the report): at its
 * target compressions, from all its result rows.
 */
export function sweepComparison(rows: ResultRow[], maxGap?: number): Comparison {
  return compareResults(rows, { grid: targetGrid(rows), maxGap });
}

/** A comparison cell: mean ± std (n seeds), `~` when interpolated across a wide gap. */
export function comparisonCell(p: ComparePoint): string {
  if (p.mean === null) return '–';
  const std = p.n > 1 && p.std ? ` ±${(p.std * 100).toFixed(1)}` : '';
  return `${p.wideGap ? '~' : ''}${percent(p.mean)}${std} n=${p.n}`;
}

/** One table per architecture: rows pruner (type), columns effective compression, cells accuracy. */
export function comparisonText(comparison: Comparison): string {
  return comparison.archs
    .map((entry) => {
      const columns = [
        { header: `${entry.arch}: pruner (type)`, align: 'left' as const },
        ...entry.grid.map((c) => ({ header: `×${formatCompression(c)}` })),
      ];
      // The dense network has one compression (1): nothing to compare at.
      const rows = entry.series
        .filter((s) => s.pruner !== 'dense')
        .map((s) => [`${s.pruner} (${s.pruningType})`, ...s.points.map(comparisonCell)]);
      return `test accuracy at matched effective compression (n = seeds; – = not reached; ~ = interpolated across a gap wider than ×${formatCompression(comparison.maxGap)}: an estimate, not a measurement)\n${renderTable(columns, rows)}`;
    })
    .join('\n');
}

/** Every trial: target, direct and effective compression, accuracy, state. */
export function resultsText(rows: ResultRow[]): string {
  return renderTable(
    [
      { header: 'arch', align: 'left' },
      { header: 'pruner', align: 'left' },
      { header: 'type', align: 'left' },
      { header: 'target' },
      { header: 'seed' },
      { header: 'direct' },
      { header: 'effective' },
      { header: 'accuracy' },
      { header: 'state', align: 'left' },
      { header: 'ran on', align: 'left' },
    ],
    rows.map((r) => [
      r.arch,
      r.pruner,
      r.pruningType,
      compression(r.targetCompression),
      String(r.seed),
      compression(r.directCompression),
      compression(r.effectiveCompression),
      percent(r.accuracy),
      r.status === 'failed' && r.error
        ? `failed: ${r.error.slice(0, 60)}`
        : r.disconnected
          ? `${r.status} (disconnected: not trained)`
          : r.status,
      formatRanOn(r.ranOn),
    ]),
  );
}

const CSV_COLUMNS = [
  'trialId',
  'key',
  'arch',
  'dataset',
  'pruner',
  'pruningType',
  'targetSparsity',
  'targetCompression',
  'seed',
  'status',
  'attempts',
  'accuracy',
  'bestAccuracy',
  'loss',
  'seconds',
  'directSparsity',
  'effectiveSparsity',
  'directCompression',
  'effectiveCompression',
  'disconnected',
  'error',
] as const satisfies readonly (keyof ResultRow)[];

const csvCell = (v: unknown) => {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' && !Number.isFinite(v)) return 'inf';
  const text = String(v);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

/** Where the trial ran, flattened for the CSV. */
const RAN_ON_COLUMNS = ['backend', 'device', 'gpu'] as const;

export function resultsCsv(rows: ResultRow[]): string {
  const lines = [
    [...CSV_COLUMNS, ...RAN_ON_COLUMNS].join(','),
    ...rows.map((r) =>
      [...CSV_COLUMNS.map((c) => r[c]), ...RAN_ON_COLUMNS.map((c) => r.ranOn?.[c] ?? null)]
        .map(csvCell)
        .join(','),
    ),
  ];
  return `${lines.join('\n')}\n`;
}
