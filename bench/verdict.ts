/**
 * The one way a benchmark states its result: a headline naming the backend, then one line per
 * target, `TARGET MET` or `TARGET MISSED`, with the figure, the baseline measured in the same run
 * and the target itself; `finish()` sets exit code 1 when any target was missed, so CI and scripts
 * can rely on the exit status instead of reading the text.
 *
 * With `--json` on the command line the human lines go to stderr, so stdout carries only the
 * bench's one JSON document (which should include `finish()`'s summary).
 */

export interface Verdict {
  /** What is judged, e.g. `vgg19 exact, sparsity 0.99`. */
  name: string;
  /** The measured figure with its unit, e.g. `0.12× baseline (150 ms)`. */
  figure: string;
  /** The baseline measured in the same run, e.g. `one fwd+bwd pass 1.2 s`. */
  baseline: string;
  /** The target in words, e.g. `≤ 1.5× baseline`. */
  target: string;
  met: boolean;
  /** What the figure ran on, e.g. `wasm` or `NATS 2.9.10 → PostgreSQL 16.4`. */
  backend: string;
}

export interface Summary {
  pass: boolean;
  verdicts: Verdict[];
}

type Write = (line: string) => void;

const recorded: Verdict[] = [];

function humanOutput(): Write {
  const stream = process.argv.includes('--json') ? process.stderr : process.stdout;
  return (line) => stream.write(`${line}\n`);
}

/** `bench:NAME [backend B]: what it measures` — the first line every bench prints. */
export function formatHeadline(bench: string, backend: string, what: string): string {
  return `bench:${bench} [backend ${backend}]: ${what}`;
}

export function headline(bench: string, backend: string, what: string, write: Write = humanOutput()): void {
  write(formatHeadline(bench, backend, what));
}

export function formatVerdict(v: Verdict): string {
  const word = v.met ? 'TARGET MET   ' : 'TARGET MISSED';
  return `${word} ${v.name}: ${v.figure} (target ${v.target}; baseline ${v.baseline}; backend ${v.backend})`;
}

/** Prints one target's verdict and records it for `finish()`. Returns `met`. */
export function verdict(v: Verdict, write: Write = humanOutput()): boolean {
  recorded.push(v);
  write(formatVerdict(v));
  return v.met;
}

/**
 * The run's summary; sets `process.exitCode` to 1 when a target was missed or none was judged
 * (a bench that judged nothing has not shown its target).
 */
export function finish(): Summary {
  const pass = recorded.length > 0 && recorded.every((v) => v.met);
  if (!pass) process.exitCode = 1;
  return { pass, verdicts: [...recorded] };
}

/** Forgets the recorded verdicts (for tests). */
export function resetVerdicts(): void {
  recorded.length = 0;
}
