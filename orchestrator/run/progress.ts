// How far a sweep has got, read from the results database (so it works for `esweep run` and for a
// cluster sweep watched with `esweep sweep status --watch`): counts by state, the running trials'
// steps, and an ETA from the durations of the trials that finished.

import { formatRanOn } from '../../common/format.ts';
import { formatDuration } from '../../worker/report/console.ts';
import type { RanOn, ResultStore, StatusCounts } from '../store/store.ts';
import { TRIAL_STATUSES } from '../store/trial-state.ts';

export interface RunningTrial {
  label: string;
  step: number | null;
  totalSteps: number | null;
  attempt: number;
  /** Where its current attempt runs, once started. */
  ranOn: RanOn | null;
  host: string | null;
}

export interface SweepProgress {
  sweep: { id: string; name: string; status: string };
  counts: StatusCounts;
  total: number;
  /** Trials that will not run again: completed, failed (for good) or cancelled. */
  finished: number;
  running: RunningTrial[];
  /** Seconds to go, null until a trial finished (nothing to go by). */
  etaSeconds: number | null;
  elapsedSeconds: number;
}

const label = (t: { pruner: string; pruningType: string; targetCompression: number; seed: number }) =>
  t.pruner === 'dense'
    ? `dense seed ${t.seed}`
    : `${t.pruner} ${t.pruningType} ×${Number(t.targetCompression.toPrecision(4))} seed ${t.seed}`;

/**
 * The sweep's progress. The ETA assumes the sweep's maxParallel trials at once, else
 * `defaultParallelism` (the backend's, when the caller knows it), else as many as run now.
 */
export async function sweepProgress(
  store: ResultStore,
  sweepId: string,
  defaultParallelism?: number,
  now = Date.now(),
): Promise<SweepProgress> {
  const { sweep, counts, inFlight, meanSeconds: mean } = await store.progressSnapshot(sweepId);
  const total = TRIAL_STATUSES.reduce((sum, s) => sum + counts[s], 0);
  const running = inFlight.map((t) => ({
    label: label(t),
    step: t.step,
    totalSteps: t.totalSteps,
    attempt: t.attempts,
    ranOn: t.ranOn,
    host: t.host,
  }));
  let etaSeconds: number | null = null;
  if (mean !== null) {
    const parallelism = sweep.maxParallel ?? defaultParallelism ?? Math.max(1, running.length);
    const left =
      counts.pending +
      running.reduce((sum, r) => sum + (r.step && r.totalSteps ? 1 - r.step / r.totalSteps : 1), 0);
    etaSeconds = (left * mean) / Math.max(1, Math.min(parallelism, counts.pending + running.length || 1));
  }
  return {
    sweep: { id: sweep.id, name: sweep.name, status: sweep.status },
    counts,
    total,
    finished: counts.completed + counts.failed + counts.cancelled,
    running,
    etaSeconds,
    elapsedSeconds: (now - sweep.createdAt.getTime()) / 1000,
  };
}

/** One line: `12/30 done · 2 running · 1 failed · ETA 3:10`. */
export function summaryLine(p: SweepProgress): string {
  const parts = [`${p.counts.completed}/${p.total} done`, `${p.running.length} running`];
  if (p.counts.pending > 0) parts.push(`${p.counts.pending} pending`);
  if (p.counts.failed > 0) parts.push(`${p.counts.failed} failed`);
  if (p.counts.cancelled > 0) parts.push(`${p.counts.cancelled} cancelled`);
  parts.push(`ETA ${p.etaSeconds === null ? '–' : formatDuration(p.etaSeconds)}`);
  return `${p.sweep.name}: ${parts.join(' · ')}`;
}

const BAR = 20;

/** The live view: a summary line with a bar, then one line per running trial. */
export function progressLines(p: SweepProgress): string[] {
  const filled = p.total > 0 ? Math.round((p.finished / p.total) * BAR) : 0;
  const lines = [`${'█'.repeat(filled)}${'░'.repeat(BAR - filled)} ${summaryLine(p)}`];
  for (const r of p.running) {
    const step = r.step !== null && r.totalSteps ? `step ${r.step}/${r.totalSteps}` : 'starting';
    const where = r.ranOn ? ` · ${formatRanOn(r.ranOn)}${r.host ? ` on ${r.host}` : ''}` : '';
    lines.push(`  ▸ ${r.label} · ${step}${r.attempt > 1 ? ` · attempt ${r.attempt}` : ''}${where}`);
  }
  return lines;
}

export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/**
 * Shows progress snapshots: on a terminal the block of lines is redrawn in place; elsewhere a
 * summary line is printed whenever it changes.
 */
export class ProgressDisplay {
  private shownLines = 0;
  private lastLine = '';

  constructor(private readonly out: ProgressStream) {}

  show(p: SweepProgress): void {
    if (!this.out.isTTY) {
      const line = summaryLine(p);
      if (line.replace(/ · ETA .*$/, '') !== this.lastLine.replace(/ · ETA .*$/, ''))
        this.out.write(`${line}\n`);
      this.lastLine = line;
      return;
    }
    const width = Math.max(20, (this.out.columns ?? 100) - 1);
    const lines = progressLines(p).map((l) => l.slice(0, width));
    this.clear();
    this.out.write(`${lines.join('\n')}\n`);
    this.shownLines = lines.length;
  }

  /** Removes the block from a terminal (before printing anything else). */
  clear(): void {
    if (this.out.isTTY && this.shownLines > 0) this.out.write(`\x1b[${this.shownLines}A\x1b[J`);
    this.shownLines = 0;
  }
}
