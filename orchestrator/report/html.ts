import type { Comparison, ResultRow } from '../query/index.ts';
import { escapeHtml, lineChart, type Series } from './svg.ts';

export interface LayerRow {
  trialId: string;
  idx: number;
  name: string;
  params: number;
  direct: number;
  effective: number;
}

export interface ReportData {
  sweep: { id: string; name: string; spec: unknown; createdAt: Date };
  results: ResultRow[];
  comparison: Comparison;
  layers: LayerRow[];
}

const seriesName = (r: Pick<ResultRow, 'pruner' | 'pruningType'>) => `${r.pruner} (${r.pruningType})`;
const finite = (v: number | null): v is number => v !== null && Number.isFinite(v);
const compression = (v: number | null) => (v === null ? '–' : Number.isFinite(v) ? v.toPrecision(4) : 'inf');
const percent = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(2)}%`);

/** One series per pruner and type, with points averaged over seeds at each target. */
function seriesBy(
  rows: ResultRow[],
  point: (r: ResultRow) => { x: number | null; y: number | null },
): Series[] {
  const groups = new Map<string, Map<number, { xs: number[]; ys: number[] }>>();
  for (const row of rows) {
    const { x, y } = point(row);
    if (!finite(x) || !finite(y)) continue;
    const name = seriesName(row);
    const targets = groups.get(name) ?? new Map();
    groups.set(name, targets);
    const at = targets.get(row.targetCompression) ?? { xs: [], ys: [] };
    targets.set(row.targetCompression, at);
    at.xs.push(x);
    at.ys.push(y);
  }
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  return [...groups]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, targets]) => ({
      name,
      dashed: name.endsWith('(direct)'),
      points: [...targets.values()].map((at) => ({ x: mean(at.xs), y: mean(at.ys) })),
    }));
}

/** Layerwise effective sparsity of each pruner at the sweep's highest target compression. */
function layerwiseChart(arch: string, rows: ResultRow[], layers: LayerRow[]): string {
  const byTrial = new Map<string, LayerRow[]>();
  for (const layer of layers) byTrial.set(layer.trialId, [...(byTrial.get(layer.trialId) ?? []), layer]);
  const withLayers = rows.filter((r) => byTrial.has(r.trialId) && r.accuracy !== null);
  if (withLayers.length === 0) return '';
  const top = Math.max(...withLayers.map((r) => r.targetCompression));
  const chosen = new Map<string, ResultRow>();
  for (const r of withLayers.filter((r) => r.targetCompression === top))
    if (!chosen.has(seriesName(r))) chosen.set(seriesName(r), r);
  const names =
    [...chosen.values()].map((r) =>
      byTrial
        .get(r.trialId)!
        .sort((a, b) => a.idx - b.idx)
        .map((l) => l.name),
    )[0] ?? [];
  const series = [...chosen]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, r]) => ({
      name,
      dashed: name.endsWith('(direct)'),
      points: byTrial
        .get(r.trialId)!
        .sort((a, b) => a.idx - b.idx)
        .map((l) => ({ x: l.idx, y: 1 - l.effective / l.params })),
    }));
  return lineChart({
    title: `${arch}: layerwise effective sparsity at compression ${top.toPrecision(4)}`,
    xLabel: 'layer',
    yLabel: 'effective sparsity',
    xCategories: names,
    series,
  });
}

function comparisonTable(comparison: Comparison, arch: string): string {
  const entry = comparison.archs.find((a) => a.arch === arch);
  if (!entry) return '';
  const head = entry.grid.map((c) => `<th>${c.toPrecision(3)}</th>`).join('');
  const body = entry.series
    .map((s) => {
      const cells = s.points
        .map((p) =>
          p.n === 0 || p.mean === null
            ? '<td>–</td>'
            : `<td>${(p.mean * 100).toFixed(2)}${p.n > 1 && p.std !== null ? ` ± ${(p.std * 100).toFixed(2)}` : ''}</td>`,
        )
        .join('');
      return `<tr><th>${escapeHtml(`${s.pruner} (${s.pruningType})`)}</th>${cells}</tr>`;
    })
    .join('');
  return `<h3>Test accuracy (%) at matched effective compression</h3><table class="compare"><tr><th>pruner \\ effective compression</th>${head}</tr>${body}</table>`;
}

function trialTable(rows: ResultRow[]): string {
  const body = rows
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.arch)}</td><td>${escapeHtml(r.pruner)}</td><td>${r.pruningType}</td><td>${compression(r.targetCompression)}</td><td>${r.seed}</td><td>${escapeHtml(r.status)}</td><td>${percent(r.accuracy)}</td><td>${compression(r.directCompression)}</td><td>${compression(r.effectiveCompression)}</td><td>${escapeHtml(r.error ?? '')}</td></tr>`,
    )
    .join('');
  return `<table class="trials"><tr><th>arch</th><th>pruner</th><th>type</th><th>target compression</th><th>seed</th><th>status</th><th>accuracy</th><th>direct compression</th><th>effective compression</th><th>error</th></tr>${body}</table>`;
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1200px}
h1{margin-bottom:.2rem}.meta{color:#666}.charts{display:flex;flex-wrap:wrap;gap:1rem}
table{border-collapse:collapse;margin:1rem 0;font-size:.85rem}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}
th:first-child,td:first-child{text-align:left}pre{background:#f6f6f6;padding:1rem;overflow:auto}
svg .title{font-size:15px;font-weight:600}svg .tick{font-size:11px;fill:#444}svg .label{font-size:13px}
svg .legend{font-size:12px}svg .grid{stroke:#eee}svg .frame{fill:none;stroke:#999}svg .identity{stroke:#aaa;stroke-dasharray:3 3}`;

/** A self-contained HTML page (inline SVG and CSS, no scripts or network) for one sweep. */
export function renderReport(data: ReportData): string {
  const archs = [...new Set(data.results.map((r) => r.arch))].sort();
  const sections = archs.map((arch) => {
    const rows = data.results.filter((r) => r.arch === arch);
    const charts = [
      lineChart({
        title: `${arch}: test accuracy vs effective compression`,
        xLabel: 'effective compression (log)',
        yLabel: 'test accuracy',
        xLog: true,
        series: seriesBy(rows, (r) => ({ x: r.effectiveCompression, y: r.accuracy })),
      }),
      lineChart({
        title: `${arch}: effective vs direct compression`,
        xLabel: 'direct compression (log)',
        yLabel: 'effective compression (log)',
        xLog: true,
        yLog: true,
        identity: true,
        series: seriesBy(rows, (r) => ({ x: r.directCompression, y: r.effectiveCompression })),
      }),
      layerwiseChart(arch, rows, data.layers),
    ];
    return `<section><h2>${escapeHtml(arch)}</h2><div class="charts">${charts.join('')}</div>${comparisonTable(data.comparison, arch)}</section>`;
  });
  const counts = new Map<string, number>();
  for (const r of data.results) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  const summary = [...counts].map(([status, n]) => `${n} ${status}`).join(', ');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>esweep report: ${escapeHtml(data.sweep.name)}</title><style>${STYLE}</style></head><body>
<h1>Sweep ${escapeHtml(data.sweep.name)}</h1>
<p class="meta">${data.results.length} trials (${escapeHtml(summary)}), submitted ${data.sweep.createdAt.toISOString()}, sweep id ${escapeHtml(data.sweep.id)}</p>
${sections.join('\n')}
<h2>Trials</h2>${trialTable(data.results)}
<h2>Sweep definition</h2><pre>${escapeHtml(JSON.stringify(data.sweep.spec, null, 2))}</pre>
</body></html>
`;
}
