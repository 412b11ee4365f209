import { formatCompression, formatRanOn } from '../../common/format.ts';
import type { ComparePoint, Comparison } from '../query/compare.ts';
import type { ResultRow } from '../query/index.ts';
import {
  accuracySpec,
  type CurvePoint,
  compressionSpec,
  curvesSpec,
  type LayerRow,
  layerwiseSpec,
  plottable,
  renderSvg,
} from './charts.ts';
import { type Claim, formatClaimValue, sweepClaims } from './claims.ts';

export type { LayerRow } from './charts.ts';

/** The trial whose training curves the report shows. */
export interface TrialSection {
  row: ResultRow;
  curves: Record<string, CurvePoint[]>;
}

export interface ReportData {
  sweep: { id: string; name: string; spec: unknown; createdAt: Date };
  results: ResultRow[];
  comparison: Comparison;
  layers: LayerRow[];
  trial: TrialSection | null;
}

export const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

const compression = (v: number | null) => (v === null ? '–' : formatCompression(v));
const percent = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(2)}%`);

/**
 * The trial whose curves the report shows unless one is asked for: the most accurate completed
 * trial at the sweep's highest target compression (the hardest setting that still trained best).
 */
export function defaultTrial(results: ResultRow[]): ResultRow | undefined {
  const done = results.filter((r) => r.accuracy !== null && r.pruner !== 'dense');
  if (done.length === 0) return undefined;
  const top = Math.max(...done.map((r) => r.targetCompression));
  return done.filter((r) => r.targetCompression === top).sort((a, b) => b.accuracy! - a.accuracy!)[0];
}

/** A comparison cell: mean ± std and n; an estimate bridged across a wide gap is marked, not shown as measured. */
function comparisonCell(p: ComparePoint): string {
  if (p.mean === null) return '<td class="none">–</td>';
  const value = `${(p.mean * 100).toFixed(2)}${p.n > 1 && p.std !== null ? ` ± ${(p.std * 100).toFixed(2)}` : ''}`;
  const n = `<span class="n">n=${p.n}</span>`;
  if (p.wideGap)
    return `<td class="wide-gap" title="interpolated across a ×${formatCompression(p.gap!)} gap between measurements">~${value} ${n}</td>`;
  return `<td>${value} ${n}</td>`;
}

function comparisonTable(comparison: Comparison, arch: string): string {
  const entry = comparison.archs.find((a) => a.arch === arch);
  if (!entry) return '';
  const head = entry.grid.map((c) => `<th>×${formatCompression(c)}</th>`).join('');
  const body = entry.series
    .filter((s) => s.pruner !== 'dense')
    .map(
      (s) =>
        `<tr><th>${escapeHtml(`${s.pruner} (${s.pruningType})`)}</th>${s.points.map(comparisonCell).join('')}</tr>`,
    )
    .join('');
  return `<h3>${escapeHtml(arch)}: test accuracy (%) at matched effective compression</h3>
<p class="note">Mean ± std over the n seeds that reach each compression. <span class="wide-gap">~ marks an estimate</span>: interpolated across a gap wider than ×${formatCompression(comparison.maxGap)} between measured compressions, not a measurement. – : not reached.</p>
<table class="compare"><tr><th>pruner (type) \\ effective compression</th>${head}</tr>${body}</table>`;
}

function claimsSection(claims: Claim[]): string {
  if (claims.length === 0) return '';
  const items = claims.map((c) => {
    const keys = [...new Set(c.rows.flatMap((r) => Object.keys(r.values)))];
    const table =
      c.rows.length === 0
        ? ''
        : `<table class="claim-numbers"><tr><th></th>${keys.map((k) => `<th>${escapeHtml(k)}</th>`).join('')}<th>n</th></tr>${c.rows
            .map(
              (r) =>
                `<tr><th>${escapeHtml(r.label)}</th>${keys.map((k) => `<td>${escapeHtml(formatClaimValue(k, r.values[k] ?? null))}</td>`).join('')}<td>${r.n}</td></tr>`,
            )
            .join('')}</table>`;
    const verdictClass = c.verdict.replaceAll(' ', '-');
    return `<div class="claim" data-claim="${escapeHtml(c.id)}" data-arch="${escapeHtml(c.arch)}"><p><span class="verdict ${verdictClass}">${escapeHtml(c.verdict)}</span> <b>${escapeHtml(c.arch)}</b>: ${escapeHtml(c.statement)}</p><p class="reason">${escapeHtml(c.reason)}</p>${table}</div>`;
  });
  return `<h2>Claims</h2><p class="note">The paper's claims tested on this sweep's measured values (interpolations across wide gaps do not count).</p>${items.join('\n')}`;
}

function trialTable(rows: ResultRow[]): string {
  const body = rows
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.arch)}</td><td>${escapeHtml(r.pruner)}</td><td>${r.pruningType}</td><td>${compression(r.targetCompression)}</td><td>${r.seed}</td><td>${escapeHtml(r.disconnected ? `${r.status} (disconnected: not trained)` : r.status)}</td><td>${percent(r.accuracy)}</td><td>${compression(r.directCompression)}</td><td>${compression(r.effectiveCompression)}</td><td>${escapeHtml(formatRanOn(r.ranOn))}</td><td>${escapeHtml(r.error ?? '')}</td></tr>`,
    )
    .join('');
  return `<table class="trials"><tr><th>arch</th><th>pruner</th><th>type</th><th>target compression</th><th>seed</th><th>status</th><th>accuracy</th><th>direct compression</th><th>effective compression</th><th>ran on</th><th>error</th></tr>${body}</table>`;
}

const figure = (id: string, caption: string, svg: string) =>
  `<figure class="chart" id="${id}">${svg}<figcaption>${caption}</figcaption></figure>`;

const STYLE = `body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1300px}
h1{margin-bottom:.2rem}.meta,.note,figcaption{color:#555;font-size:.9rem}figure{margin:1rem 0}
table{border-collapse:collapse;margin:1rem 0;font-size:.85rem}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}
th:first-child,td:first-child{text-align:left}pre{background:#f6f6f6;padding:1rem;overflow:auto}
.n{color:#888;font-size:.75rem}.wide-gap{color:#a15c00;font-style:italic}td.none{color:#aaa}
.claim{border-left:4px solid #ccc;padding:.2rem .8rem;margin:1rem 0}.claim p{margin:.3rem 0}.reason{color:#444}
.verdict{font-weight:600;padding:.1rem .4rem;border-radius:3px}.verdict.holds{background:#dff0d8}
.verdict.does-not-hold{background:#f8d7da}.verdict.not-enough-data{background:#eee}`;

/** A self-contained HTML page (inline SVG and CSS, no scripts or network) for one sweep. */
export async function renderReport(data: ReportData): Promise<string> {
  const archs = [...new Set(data.results.map((r) => r.arch))].sort();
  const completed = data.results.filter((r) => r.accuracy !== null);
  const hidden = completed.length - plottable(completed).length;
  const hiddenNote =
    hidden > 0
      ? ` ${hidden} trials with nothing left connected (effective compression ∞) are not plotted.`
      : '';
  const figures: string[] = [];
  if (plottable(completed).length > 0) {
    figures.push(
      figure(
        'accuracy',
        `Test accuracy vs effective compression: line = mean over seeds per pruner (colour) and type (solid effective, dashed direct), band = ± std, points = single trials (circles direct, squares effective; hover for values).${hiddenNote}`,
        await renderSvg(accuracySpec(data.results)),
      ),
      figure(
        'compression',
        'Effective vs direct compression: the dotted line is y = x, where pruning disconnects nothing; above it, direct pruning left weights that no input-output path uses.',
        await renderSvg(compressionSpec(data.results)),
      ),
    );
  }
  for (const arch of archs) {
    const spec = layerwiseSpec(arch, data.results, data.layers);
    if (spec)
      figures.push(
        figure(
          `layerwise-${arch}`,
          `${escapeHtml(arch)}: the fraction of each layer's weights still connected, mean over seeds, at up to three target compressions (a layer with nothing connected has no place on the log axis and is left out).`,
          await renderSvg(spec),
        ),
      );
  }
  let trialSection = '';
  if (data.trial) {
    const r = data.trial.row;
    const title = `${r.arch} · ${r.pruner} (${r.pruningType}) · target ×${formatCompression(r.targetCompression)} · seed ${r.seed}`;
    const spec = curvesSpec(title, data.trial.curves);
    trialSection = `<h2>Trial ${escapeHtml(r.key)}</h2><p class="meta">${escapeHtml(title)}: accuracy ${percent(r.accuracy)}, effective compression ${compression(r.effectiveCompression)} (trial id ${escapeHtml(r.trialId)}).</p>${
      spec
        ? figure('curves', 'Training curves of this trial.', await renderSvg(spec))
        : '<p class="note">No curves recorded.</p>'
    }`;
  }
  const counts = new Map<string, number>();
  for (const r of data.results) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  const summary = [...counts].map(([status, n]) => `${n} ${status}`).join(', ');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>esweep report: ${escapeHtml(data.sweep.name)}</title><style>${STYLE}</style></head><body>
<h1>Sweep ${escapeHtml(data.sweep.name)}</h1>
<p class="meta">${data.results.length} trials (${escapeHtml(summary)}), submitted ${data.sweep.createdAt.toISOString()}, sweep id ${escapeHtml(data.sweep.id)}</p>
<h2>Figures</h2>${figures.join('\n')}
<h2>Matched effective compression</h2>${archs.map((arch) => comparisonTable(data.comparison, arch)).join('\n')}
${claimsSection(sweepClaims(data.results, data.comparison))}
${trialSection}
<h2>Trials</h2>${trialTable(data.results)}
<h2>Sweep definition</h2><pre>${escapeHtml(JSON.stringify(data.sweep.spec, null, 2))}</pre>
</body></html>
`;
}
