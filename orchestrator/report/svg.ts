/** Small dependency-free SVG charts for the offline HTML report. */

export interface Point {
  x: number;
  y: number;
}

export interface Series {
  name: string;
  points: Point[];
  dashed?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  xLog?: boolean;
  yLog?: boolean;
  /** Category names for an x axis of positions 0, 1, 2… (e.g. layers). */
  xCategories?: string[];
  /** Draw y = x (for plots of a quantity against itself). */
  identity?: boolean;
  series: Series[];
}

const WIDTH = 780;
const HEIGHT = 420;
const MARGIN = { left: 70, right: 240, top: 40, bottom: 70 };
export const PALETTE = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

export const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

interface Axis {
  toPixel(value: number): number;
  ticks: { value: number; label: string }[];
}

function niceLinearTicks(lo: number, hi: number): number[] {
  const span = hi - lo || 1;
  const step = 10 ** Math.floor(Math.log10(span / 5));
  const multiple = [1, 2, 5, 10].find((m) => span / (m * step) <= 6) ?? 10;
  const size = multiple * step;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / size) * size; v <= hi + size * 1e-9; v += size)
    ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

const formatTick = (v: number) =>
  Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(0) : String(v);

function axis(values: number[], log: boolean, from: number, to: number, categories?: string[]): Axis {
  if (categories) {
    const step = (to - from) / Math.max(1, categories.length);
    return {
      toPixel: (v) => from + step * (v + 0.5),
      ticks: categories.map((label, k) => ({ value: k, label })),
    };
  }
  const finite = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  let lo = finite.length ? Math.min(...finite) : log ? 1 : 0;
  let hi = finite.length ? Math.max(...finite) : lo + 1;
  if (log) {
    lo = 10 ** Math.floor(Math.log10(lo));
    hi = 10 ** Math.ceil(Math.log10(hi));
    if (hi === lo) hi = lo * 10;
    const scale = (v: number) => (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo));
    const ticks = [];
    for (let e = Math.log10(lo); e <= Math.log10(hi) + 1e-9; e++)
      ticks.push({ value: 10 ** e, label: formatTick(10 ** e) });
    return { toPixel: (v) => from + scale(v) * (to - from), ticks };
  }
  if (hi === lo) {
    lo -= 0.5;
    hi += 0.5;
  }
  const ticks = niceLinearTicks(lo, hi);
  lo = Math.min(lo, ticks[0]);
  hi = Math.max(hi, ticks[ticks.length - 1]);
  return {
    toPixel: (v) => from + ((v - lo) / (hi - lo)) * (to - from),
    ticks: ticks.map((value) => ({ value, label: formatTick(value) })),
  };
}

/** A line-and-marker chart with labelled axes and a legend, as one inline `<svg>` element. */
export function lineChart(options: ChartOptions): string {
  const usable = (p: Point) =>
    Number.isFinite(p.x) && Number.isFinite(p.y) && (!options.xLog || p.x > 0) && (!options.yLog || p.y > 0);
  const series = options.series.map((s) => ({ ...s, points: s.points.filter(usable) }));
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.map((p) => p.y));
  const x = axis(
    options.identity ? [...xs, ...ys] : xs,
    !!options.xLog,
    MARGIN.left,
    WIDTH - MARGIN.right,
    options.xCategories,
  );
  const y = axis(options.identity ? [...xs, ...ys] : ys, !!options.yLog, HEIGHT - MARGIN.bottom, MARGIN.top);
  const parts: string[] = [];
  parts.push(
    `<text x="${WIDTH / 2 - MARGIN.right / 2}" y="22" text-anchor="middle" class="title">${escapeHtml(options.title)}</text>`,
  );
  for (const tick of x.ticks) {
    const px = x.toPixel(tick.value).toFixed(1);
    parts.push(
      `<line x1="${px}" y1="${MARGIN.top}" x2="${px}" y2="${HEIGHT - MARGIN.bottom}" class="grid"/>`,
    );
    const rotate = options.xCategories
      ? ` transform="rotate(-40 ${px} ${HEIGHT - MARGIN.bottom + 14})" text-anchor="end"`
      : ' text-anchor="middle"';
    parts.push(
      `<text x="${px}" y="${HEIGHT - MARGIN.bottom + 14}"${rotate} class="tick">${escapeHtml(tick.label)}</text>`,
    );
  }
  for (const tick of y.ticks) {
    const py = y.toPixel(tick.value).toFixed(1);
    parts.push(`<line x1="${MARGIN.left}" y1="${py}" x2="${WIDTH - MARGIN.right}" y2="${py}" class="grid"/>`);
    parts.push(
      `<text x="${MARGIN.left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle" class="tick">${escapeHtml(tick.label)}</text>`,
    );
  }
  parts.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${WIDTH - MARGIN.left - MARGIN.right}" height="${HEIGHT - MARGIN.top - MARGIN.bottom}" class="frame"/>`,
  );
  parts.push(
    `<text x="${(MARGIN.left + WIDTH - MARGIN.right) / 2}" y="${HEIGHT - 12}" text-anchor="middle" class="label">${escapeHtml(options.xLabel)}</text>`,
  );
  parts.push(
    `<text transform="translate(16 ${(MARGIN.top + HEIGHT - MARGIN.bottom) / 2}) rotate(-90)" text-anchor="middle" class="label">${escapeHtml(options.yLabel)}</text>`,
  );
  if (options.identity && xs.length > 0) {
    const lo = Math.min(...xs, ...ys);
    const hi = Math.max(...xs, ...ys);
    parts.push(
      `<line x1="${x.toPixel(lo)}" y1="${y.toPixel(lo)}" x2="${x.toPixel(hi)}" y2="${y.toPixel(hi)}" class="identity"/>`,
    );
  }
  series.forEach((s, k) => {
    const color = PALETTE[k % PALETTE.length];
    const sorted = [...s.points].sort((a, b) => a.x - b.x);
    const path = sorted.map((p) => `${x.toPixel(p.x).toFixed(1)},${y.toPixel(p.y).toFixed(1)}`).join(' ');
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<g class="series" data-series="${escapeHtml(s.name)}">`);
    if (sorted.length > 1)
      parts.push(`<polyline points="${path}" fill="none" stroke="${color}" stroke-width="1.8"${dash}/>`);
    for (const p of sorted) {
      parts.push(
        `<circle cx="${x.toPixel(p.x).toFixed(1)}" cy="${y.toPixel(p.y).toFixed(1)}" r="3.2" fill="${color}"><title>${escapeHtml(`${s.name}: (${p.x.toPrecision(4)}, ${p.y.toPrecision(4)})`)}</title></circle>`,
      );
    }
    parts.push('</g>');
    const ly = MARGIN.top + 8 + k * 18;
    const lx = WIDTH - MARGIN.right + 14;
    parts.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 22}" y2="${ly}" stroke="${color}" stroke-width="2.5"${dash}/>`,
    );
    parts.push(
      `<text x="${lx + 28}" y="${ly}" dominant-baseline="middle" class="legend">${escapeHtml(s.name)}</text>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${escapeHtml(options.title)}">${parts.join('')}</svg>`;
}
