/**
 * The reporter for a person or a parent process watching one trial: on a terminal, a live progress
 * bar (step, loss, accuracy, ETA) with a line per evaluation; elsewhere, one JSON object per event
 * (`{"kind", "time", ...payload}`), the same payloads the NATS transport carries.
 */
import { formatCompression, formatPercent, toJson } from '../../common/format.ts';
import type {
  FailedEvent,
  MetricsEvent,
  ProgressEvent,
  Reporter,
  SparsityEvent,
  StartedEvent,
  TrialResult,
} from './reporter.ts';

export interface ConsoleStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

const BAR_WIDTH = 24;

/** 75 → "1:15", 3725 → "1:02:05". */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

export function progressLine(event: ProgressEvent): string {
  const fraction = event.iterations > 0 ? event.step / event.iterations : 1;
  const filled = Math.round(fraction * BAR_WIDTH);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
  const accuracy = event.accuracy === null ? '–' : formatPercent(event.accuracy);
  return (
    `${bar} ${event.step}/${event.iterations} · epoch ${event.epoch} · loss ${event.loss.toFixed(4)} · ` +
    `acc ${accuracy} · lr ${event.learningRate.toPrecision(3)} · ${formatDuration(event.elapsedSeconds)} ` +
    `· ETA ${formatDuration(event.etaSeconds)}`
  );
}

/** Live bar on a terminal; the bar line is cleared before any other line is printed. */
class TerminalReporter implements Reporter {
  private barShown = false;

  constructor(private readonly out: ConsoleStream) {}

  private line(text: string): void {
    this.clearBar();
    this.out.write(`${text}\n`);
  }

  private clearBar(): void {
    if (this.barShown) this.out.write('\r\x1b[K');
    this.barShown = false;
  }

  async started(e: StartedEvent): Promise<void> {
    const target =
      e.pruner === 'dense' ? 'dense' : `${e.pruner} ${e.type} sparsity ${formatPercent(e.sparsity)}`;
    this.line(
      `${e.arch} on ${e.dataset} · ${target} · seed ${e.seed} · ${e.iterations} steps of ${e.batchSize} ` +
        `(${(e.iterations / e.stepsPerEpoch).toFixed(2)} epochs) · backend ${e.backend} on ${e.provenance.device}`,
    );
  }

  async sparsity({ overall }: SparsityEvent): Promise<void> {
    this.line(
      `sparsity: direct ${formatPercent(overall.directSparsity)} (×${formatCompression(overall.directCompression)}), ` +
        `effective ${formatPercent(overall.effectiveSparsity)} (×${formatCompression(overall.effectiveCompression)})`,
    );
  }

  async progress(e: ProgressEvent): Promise<void> {
    const text = progressLine(e);
    const width = this.out.columns ?? 0;
    this.out.write(`\r${width > 1 ? text.slice(0, width - 1) : text}\x1b[K`);
    this.barShown = true;
  }

  async metrics({ points }: MetricsEvent): Promise<void> {
    if (points.length === 0) return;
    const values = points.map((p) => `${p.name} ${Number.isInteger(p.value) ? p.value : p.value.toFixed(4)}`);
    this.line(`step ${points[0].step}: ${values.join(', ')}`);
  }

  async completed(r: TrialResult): Promise<void> {
    if (r.disconnected) {
      this.line(
        `disconnected (no path from input to output left): not trained; the constant predictor's ` +
          `test accuracy ${formatPercent(r.accuracy)}`,
      );
      return;
    }
    this.line(
      `done in ${formatDuration(r.seconds)}: test accuracy ${formatPercent(r.accuracy)} ` +
        `(best ${formatPercent(r.bestAccuracy)}), loss ${r.loss.toFixed(4)}`,
    );
  }

  /** Only clears the bar: the caller prints the error itself, as its one line. */
  async failed(_event: FailedEvent): Promise<void> {
    this.clearBar();
  }
}

/** One JSON object per line, for logs and parent processes. */
class JsonLinesReporter implements Reporter {
  constructor(private readonly out: ConsoleStream) {}

  private emit(kind: string, payload: object): void {
    this.out.write(`${toJson({ kind, time: new Date().toISOString(), ...payload })}\n`);
  }

  started = async (e: StartedEvent) => this.emit('started', e);
  sparsity = async (e: SparsityEvent) => this.emit('sparsity', e);
  progress = async (e: ProgressEvent) => this.emit('progress', e);
  metrics = async (e: MetricsEvent) => this.emit('metrics', e);
  completed = async (r: TrialResult) => this.emit('completed', r);
  failed = async (e: FailedEvent) => this.emit('failed', e);
}

/** A progress bar when `out` is a terminal, JSON lines otherwise. */
export function consoleReporter(out: ConsoleStream): Reporter {
  return out.isTTY ? new TerminalReporter(out) : new JsonLinesReporter(out);
}
