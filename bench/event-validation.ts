// npm run bench:validation [-- --json] [--events 20000] [--rounds 7]
// What validating an event before the database costs (docs/event-validation.md): a worker-like mix of
// encoded messages is decoded by decodeEvent (schema, sizes, Unicode, time window, consistent figures)
// and, in the same run, by the schema alone (JSON.parse + zod + subject check, what decoding cost before
// these rules: the baseline), and the rules alone (the text scan and checkEvent on decoded events: what
// the rules add, measured directly since the difference of two noisy totals is noisier still). Also the
// content hash the writer stores to detect conflicts. Best of `rounds` interleaved passes. Target: the
// rules cost at most 0.5× the schema-only decode and at most 20 µs per event.
import {
  decodeEvent,
  encodeEvent,
  eventSchema,
  subjectFor,
  type TrialEvent,
} from '../orchestrator/events/protocol.ts';
import { checkEvent, mayHoldBadText } from '../orchestrator/events/validation.ts';
import { contentHash } from '../orchestrator/store/event-writes.ts';
import { benchFlags, readFlags, wholeNumber } from './flags.ts';
import { finish, headline, verdict } from './verdict.ts';

const MAX_ADDED_RATIO = 0.5;
const MAX_ADDED_MICROS = 20;

const values = benchFlags({
  name: 'validation',
  about: `What validating an event before the database costs: decodeEvent's rules on a worker-like mix of
messages. Baseline: the schema-only decode (JSON.parse + zod + subject check). Target: the rules cost
≤ ${MAX_ADDED_RATIO}× the baseline and ≤ ${MAX_ADDED_MICROS} µs per event.`,
  flags: {
    events: { type: 'string', default: '20000', value: 'N', about: 'messages decoded per pass' },
    rounds: { type: 'string', default: '7', value: 'N', about: 'interleaved passes (best of)' },
    json: { type: 'boolean', default: false, about: 'one JSON line at the end' },
  },
});
const { count, rounds } = readFlags('validation', () => ({
  count: wholeNumber('events', values.events),
  rounds: wholeNumber('rounds', values.rounds),
}));

const BACKEND = `node ${process.version}, ${process.arch}`;
headline(
  'validation',
  BACKEND,
  `decodeEvent with validation vs schema only, ${count} events, best of ${rounds}`,
);

/** A worker's stream, cycled: progress and heartbeats, curves of 100 points, a 16-layer report, the end. */
function mix(n: number): TrialEvent[] {
  const start = Date.now() - 3_600_000;
  const layers = Array.from({ length: 16 }, (_, i) => ({
    name: `conv${i}`,
    shape: [64, 64, 3, 3],
    params: 36_864,
    direct: 3_686,
    effective: 3_000,
  }));
  const total = 16 * 36_864;
  const bodies: Record<string, unknown>[] = [
    { kind: 'started', host: 'node-1', backend: 'tensorflow', jobName: 'esweep-abc-1' },
    { kind: 'progress', step: 10, totalSteps: 1000, phase: 'training' },
    { kind: 'heartbeat', step: 10 },
    {
      kind: 'metrics',
      points: Array.from({ length: 100 }, (_, i) => ({
        step: i,
        name: i % 2 ? 'loss' : 'accuracy',
        value: Math.random(),
      })),
    },
    { kind: 'progress', step: 20, totalSteps: 1000, phase: 'training' },
    {
      kind: 'sparsity',
      layers,
      overall: {
        total,
        direct: 16 * 3_686,
        effective: 16 * 3_000,
        directSparsity: 1 - (16 * 3_686) / total,
        effectiveSparsity: 1 - (16 * 3_000) / total,
      },
    },
    {
      kind: 'completed',
      accuracy: 0.9,
      directSparsity: 0.9,
      effectiveSparsity: 0.92,
      directCompression: 10,
      effectiveCompression: 12.5,
    },
  ];
  return Array.from({ length: n }, (_, i) => ({
    v: 1,
    sweepId: 'sweep',
    trialId: `trial${Math.floor(i / bodies.length)}`,
    attempt: 1,
    seq: i % bodies.length,
    time: new Date(start + i).toISOString(),
    ...bodies[i % bodies.length],
  })) as TrialEvent[];
}

const events = mix(count);
const messages = events.map((e) => ({ subject: subjectFor(e), data: encodeEvent(e) }));
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Decoding as it was before the rules: JSON, schema, subject. */
function schemaOnly(subject: string, data: Uint8Array): boolean {
  const parsed = eventSchema.safeParse(JSON.parse(decoder.decode(data)));
  if (!parsed.success) return false;
  const tail = subject.split('.').slice(-3);
  return tail[0] === parsed.data.sweepId && tail[1] === parsed.data.trialId && tail[2] === parsed.data.kind;
}

/**
 * Best µs per event of each pass over `rounds` rounds (after a warm-up round), the passes interleaved
 * so that a busy machine slows them alike; every message must be accepted.
 */
function microsPerEvent(passes: Record<string, () => number>): Record<string, number> {
  const best: Record<string, number> = {};
  for (const [name, pass] of Object.entries(passes)) {
    if (pass() !== count) throw new Error(`${name}: a message of the mix was refused`);
    best[name] = Number.POSITIVE_INFINITY;
  }
  for (let r = 0; r < rounds; r++) {
    for (const [name, pass] of Object.entries(passes)) {
      const t0 = performance.now();
      pass();
      best[name] = Math.min(best[name]!, performance.now() - t0);
    }
  }
  return Object.fromEntries(Object.entries(best).map(([name, ms]) => [name, (ms * 1000) / count]));
}

const texts = messages.map((m) => decoder.decode(m.data));
const measured = microsPerEvent({
  schema: () => messages.filter((m) => schemaOnly(m.subject, m.data)).length,
  full: () => messages.filter((m) => decodeEvent(m.subject, m.data).ok).length,
  rules: () => events.filter((e, i) => !mayHoldBadText(texts[i]!) && checkEvent(e) === null).length,
  hash: () => events.filter((e) => contentHash(e).length > 0).length,
});
const { schema, full, rules: added, hash } = measured as Record<'schema' | 'full' | 'rules' | 'hash', number>;
const fmt = (us: number) => `${us.toFixed(2)} µs/event`;

const lines = {
  backend: BACKEND,
  events: count,
  rounds,
  schemaOnlyMicros: schema,
  decodeEventMicros: full,
  rulesMicros: added,
  contentHashMicros: hash,
};
if (!values.json) {
  process.stdout.write(
    `schema only ${fmt(schema)}; decodeEvent ${fmt(full)}; the rules alone ${fmt(added)}; content hash ${fmt(hash)}\n`,
  );
}
verdict({
  name: 'validation cost',
  figure: `rules ${fmt(added)} (${(added / schema).toFixed(3)}× the schema-only decode)`,
  baseline: `schema-only decode ${fmt(schema)}`,
  target: `≤ ${MAX_ADDED_RATIO}× baseline and ≤ ${MAX_ADDED_MICROS} µs/event`,
  met: added <= MAX_ADDED_RATIO * schema && added <= MAX_ADDED_MICROS,
  backend: BACKEND,
});
const summary = finish();
if (values.json) process.stdout.write(`${JSON.stringify({ ...lines, ...summary })}\n`);
