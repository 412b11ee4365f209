// Writes one batch of validated events in one transaction. Every table is filled with a bulk
// `INSERT … SELECT * FROM unnest($arrays)` through Prisma's raw queries (createMany is ~10× slower), and
// every statement is idempotent: events are keyed on (trial, attempt, incarnation, seq) and only the
// events that were new in this transaction have effects, so a batch that is delivered again after a
// crash (written, not acked) changes nothing.
//
// Status rules (trial-state.ts): any event of an attempt means at least `running`; the rank
// pending < queued < running < failed < cancelled < completed is the order of the `trial_status` enum,
// and a status only ever moves up (GREATEST), so events that arrive twice or out of order (completed
// before started) end in the same state. A trial mirrors its current attempt: events of an older
// attempt update that attempt only (history); events of an attempt the controller never started are
// refused (`stale-attempt`), except a first attempt of a trial that has none (tests, hand-fed
// ingesters). A message with a stored event's key but other content is refused (`conflict`):
// events carry a hash of their content (docs/event-validation.md). An attempt's row and result follow
// one of its incarnations (incarnations.ts); every incarnation's events, points and layers are stored.
import { createHash } from 'node:crypto';
import {
  type AttemptProvenance,
  compressionFromSparsity,
  type EventOf,
  messageId,
  type TrialEvent,
} from '../events/protocol.ts';
import type { Tx } from './database.ts';
import { applicableEvents, attemptOrder, incarnationOf, textOrder } from './incarnations.ts';
import type { BatchOutcome, DeadLetterRow, RejectedEvent } from './store.ts';
import {
  EVENT_STATUSES,
  eventStatus,
  higherStatus,
  TERMINAL_STATUSES,
  type TrialStatus,
} from './trial-state.ts';

export type { Tx };

/** What the event table keeps of an event: its payload without the header (metrics: the count). */
function storedPayload(event: TrialEvent): string {
  if (event.kind === 'metrics') return JSON.stringify({ points: event.points.length });
  const {
    v: _v,
    kind: _k,
    sweepId: _s,
    trialId: _t,
    attempt: _a,
    incarnation: _i,
    seq: _q,
    time: _time,
    ...rest
  } = event;
  return JSON.stringify(rest);
}

const inf = (value: number | null | undefined, sparsity: number): number => {
  const c = value === undefined ? compressionFromSparsity(sparsity) : value;
  return c === null ? Number.POSITIVE_INFINITY : c;
};

export interface AttemptAgg {
  trialId: string;
  number: number;
  status: TrialStatus;
  startedAt: string | null;
  finishedAt: string | null;
  heartbeatAt: string;
  step: number | null;
  totalSteps: number | null;
  phase: string | null;
  host: string | null;
  backend: string | null;
  provenance: AttemptProvenance | null;
  jobName: string | null;
  error: string | null;
  retryable: boolean | null;
  artifacts: Record<string, string> | null;
}

const later = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : a > b ? a : b);
const earlier = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : a < b ? a : b);

/**
 * The attempts a batch of new events touches, each merged from its events as the database merges it
 * (status by rank, latest progress, earliest start), in (trial, attempt) order.
 */
export function aggregateAttempts(events: TrialEvent[]): AttemptAgg[] {
  const byAttempt = new Map<string, AttemptAgg>();
  // Within a batch, apply in (seq) order so "latest progress" is the highest step.
  const ordered = [...events].sort((a, b) => a.seq - b.seq);
  for (const e of ordered) {
    const key = `${e.trialId}:${e.attempt}`;
    const time = new Date(e.time).toISOString();
    let agg = byAttempt.get(key);
    if (!agg) {
      agg = {
        trialId: e.trialId,
        number: e.attempt,
        status: 'running' as TrialStatus,
        startedAt: null,
        finishedAt: null,
        heartbeatAt: time,
        step: null,
        totalSteps: null,
        phase: null,
        host: null,
        backend: null,
        provenance: null,
        jobName: null,
        error: null,
        retryable: null,
        artifacts: null,
      };
      byAttempt.set(key, agg);
    }
    agg.status = higherStatus(agg.status, eventStatus(e.kind));
    agg.heartbeatAt = later(agg.heartbeatAt, time)!;
    switch (e.kind) {
      case 'started':
        agg.startedAt = earlier(agg.startedAt, time);
        agg.host = e.host ?? agg.host;
        agg.backend = e.backend ?? agg.backend;
        agg.provenance = e.provenance ?? agg.provenance;
        agg.jobName = e.jobName ?? agg.jobName;
        agg.totalSteps = e.totalSteps ?? agg.totalSteps;
        break;
      case 'progress':
        if (agg.step === null || e.step >= agg.step) {
          agg.step = e.step;
          agg.totalSteps = e.totalSteps ?? agg.totalSteps;
          agg.phase = e.phase ?? agg.phase;
        }
        break;
      case 'heartbeat':
        if (e.step !== undefined && (agg.step === null || e.step > agg.step)) agg.step = e.step;
        break;
      case 'completed':
        agg.finishedAt = later(agg.finishedAt, time);
        if (e.artifacts) agg.artifacts = { ...agg.artifacts, ...e.artifacts };
        break;
      case 'failed':
        agg.finishedAt = later(agg.finishedAt, time);
        agg.error = e.error;
        agg.retryable = e.retryable;
        break;
      case 'sparsity':
        if (e.artifacts) agg.artifacts = { ...agg.artifacts, ...e.artifacts };
        break;
      default:
        break;
    }
  }
  // A completed attempt has no error, whatever a `failed` of it said (completed outranks failed).
  for (const agg of byAttempt.values()) {
    if (agg.status === 'completed') {
      agg.error = null;
      agg.retryable = null;
    }
  }
  return [...byAttempt.values()].sort(attemptOrder);
}

/**
 * Writes the batch (call inside a transaction). `events` must be valid (decodeEvent); duplicates
 * within the batch are tolerated. Every event the batch refuses is in `rejected`, each copy of it
 * (the same object as in `events`), so a caller can match them to its messages by identity. Each
 * step is its own function below.
 */
export async function writeEvents(tx: Tx, events: TrialEvent[]): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { inserted: 0, duplicates: 0, points: 0, rejected: [] };
  if (events.length === 0) return outcome;
  const { known, rejected } = await knownTrialEvents(tx, events);
  outcome.rejected = rejected;
  if (known.length === 0) return outcome;
  const hashes = new Map(known.map((e) => [e, contentHash(e)]));
  const { unique } = uniqueEvents(known);
  const news = await insertEvents(tx, unique, hashes);
  const conflicts = await conflictingEvents(tx, known, news, hashes);
  outcome.rejected.push(...conflicts);
  outcome.inserted = news.length;
  outcome.duplicates = known.length - news.length - conflicts.length;
  if (news.length === 0) return outcome;
  const applicable = await applicableEvents(tx, news);
  outcome.points = await insertPoints(
    tx,
    news.filter((e): e is EventOf<'metrics'> => e.kind === 'metrics'),
  );
  const attempts = aggregateAttempts(applicable);
  await upsertAttempts(tx, attempts);
  await mirrorCurrentAttempts(tx, attempts);
  await upsertResults(
    tx,
    applicable.filter((e): e is EventOf<'completed'> => e.kind === 'completed'),
  );
  await upsertLayers(
    tx,
    news.filter((e): e is EventOf<'sparsity'> => e.kind === 'sparsity'),
  );
  return outcome;
}

/** The batch unique by message id (the first of each wins), and how many repeats were dropped. */
export function uniqueEvents(events: TrialEvent[]): { unique: TrialEvent[]; duplicates: number } {
  const unique = new Map<string, TrialEvent>();
  for (const e of events) if (!unique.has(messageId(e))) unique.set(messageId(e), e);
  return { unique: [...unique.values()], duplicates: events.length - unique.size };
}

/** SHA-256 of the decoded event: its fields in schema order, so a redelivery hashes the same. */
export function contentHash(event: TrialEvent): string {
  return createHash('sha256').update(JSON.stringify(event)).digest('base64url');
}

/**
 * The events of trials that exist in the sweep they name, of an attempt the controller started (or
 * the first attempt of a trial that has none), in one order for every statement (trial, attempt,
 * incarnation, seq), so concurrent ingesters lock rows in the same order and cannot deadlock each
 * other; the others are rejected.
 */
export async function knownTrialEvents(
  tx: Tx,
  events: TrialEvent[],
): Promise<{ known: TrialEvent[]; rejected: RejectedEvent[] }> {
  const trialIds = [...new Set(events.map((e) => e.trialId))];
  const trials = await tx.$queryRaw<{ id: string; sweep_id: string; attempts: number }[]>`
    SELECT id, sweep_id, attempts FROM trial WHERE id = ANY(${trialIds}::text[])`;
  const trialOf = new Map(trials.map((t) => [t.id, t]));
  const known: TrialEvent[] = [];
  const rejected: RejectedEvent[] = [];
  for (const e of events) {
    const trial = trialOf.get(e.trialId);
    if (trial === undefined) {
      rejected.push({ event: e, reason: 'unknown-trial', detail: `trial ${e.trialId} does not exist` });
    } else if (trial.sweep_id !== e.sweepId) {
      rejected.push({
        event: e,
        reason: 'unknown-trial',
        detail: `trial ${e.trialId} belongs to sweep ${trial.sweep_id}, not ${e.sweepId}`,
      });
    } else if (e.attempt > Math.max(trial.attempts, 1)) {
      rejected.push({
        event: e,
        reason: 'stale-attempt',
        detail: `attempt ${e.attempt} of trial ${e.trialId} was never started (its current attempt is ${trial.attempts})`,
      });
    } else known.push(e);
  }
  known.sort(
    (a, b) =>
      textOrder(a.trialId, b.trialId) ||
      a.attempt - b.attempt ||
      textOrder(incarnationOf(a), incarnationOf(b)) ||
      a.seq - b.seq,
  );
  return { known, rejected };
}

/**
 * Step 1: the events themselves (unique by key). Returns the ones new to the database (only they
 * have effects).
 */
export async function insertEvents(
  tx: Tx,
  events: TrialEvent[],
  hashes: Map<TrialEvent, string>,
): Promise<TrialEvent[]> {
  const fresh = await tx.$queryRaw<{ trial_id: string; attempt: number; incarnation: string; seq: number }[]>`
    INSERT INTO event (trial_id, attempt, incarnation, seq, sweep_id, kind, time, payload, content_hash)
    SELECT * FROM unnest(
      ${events.map((e) => e.trialId)}::text[], ${events.map((e) => e.attempt)}::int[],
      ${events.map(incarnationOf)}::text[],
      ${events.map((e) => e.seq)}::int[], ${events.map((e) => e.sweepId)}::text[],
      ${events.map((e) => e.kind)}::text[], ${events.map((e) => e.time)}::timestamptz[],
      ${events.map(storedPayload)}::jsonb[], ${events.map((e) => hashes.get(e) ?? null)}::text[])
    ON CONFLICT DO NOTHING
    RETURNING trial_id, attempt, incarnation, seq`;
  const freshKeys = new Set(fresh.map(rowKey));
  return events.filter((e) => freshKeys.has(messageId(e)));
}

/** The message id of an event row. */
const rowKey = (r: { trial_id: string; attempt: number; incarnation: string; seq: number }) =>
  messageId({ trialId: r.trial_id, attempt: r.attempt, incarnation: r.incarnation, seq: r.seq });

/**
 * The events whose key holds other content: other than the stored event's when it was stored
 * before, other than the copy just inserted when it is new. Stored events without a hash (older than
 * the column) match anything.
 */
export async function conflictingEvents(
  tx: Tx,
  events: TrialEvent[],
  inserted: TrialEvent[],
  hashes: Map<TrialEvent, string>,
): Promise<RejectedEvent[]> {
  const reference = new Map<string, string | null>(inserted.map((e) => [messageId(e), hashes.get(e)!]));
  const stored = events.filter((e) => !reference.has(messageId(e)));
  if (stored.length > 0) {
    const rows = await tx.$queryRaw<
      { trial_id: string; attempt: number; incarnation: string; seq: number; content_hash: string | null }[]
    >`
      SELECT e.trial_id, e.attempt, e.incarnation, e.seq, e.content_hash
      FROM unnest(${stored.map((e) => e.trialId)}::text[], ${stored.map((e) => e.attempt)}::int[],
        ${stored.map(incarnationOf)}::text[], ${stored.map((e) => e.seq)}::int[])
        AS v(trial_id, attempt, incarnation, seq)
      JOIN event e USING (trial_id, attempt, incarnation, seq)`;
    for (const r of rows) reference.set(rowKey(r), r.content_hash);
  }
  const conflicts: RejectedEvent[] = [];
  for (const e of events) {
    const expected = reference.get(messageId(e));
    if (expected && expected !== hashes.get(e)) {
      conflicts.push({
        event: e,
        reason: 'conflict',
        detail: `event ${messageId(e)} is stored with other content`,
      });
    }
  }
  return conflicts;
}

/** Step 3: attempts (created when the orchestrator did not), merged monotonically. */
export async function upsertAttempts(tx: Tx, attempts: AttemptAgg[]): Promise<void> {
  await tx.$executeRaw`
    INSERT INTO attempt AS a (trial_id, number, status, started_at, finished_at, heartbeat_at, step,
      total_steps, phase, host, backend, job_name, error, retryable, artifacts, provenance)
    SELECT * FROM unnest(
      ${attempts.map((a) => a.trialId)}::text[], ${attempts.map((a) => a.number)}::int[],
      ${attempts.map((a) => a.status)}::text[]::trial_status[], ${attempts.map((a) => a.startedAt)}::timestamptz[],
      ${attempts.map((a) => a.finishedAt)}::timestamptz[], ${attempts.map((a) => a.heartbeatAt)}::timestamptz[],
      ${attempts.map((a) => a.step)}::int[], ${attempts.map((a) => a.totalSteps)}::int[],
      ${attempts.map((a) => a.phase)}::text[], ${attempts.map((a) => a.host)}::text[],
      ${attempts.map((a) => a.backend)}::text[], ${attempts.map((a) => a.jobName)}::text[],
      ${attempts.map((a) => a.error)}::text[], ${attempts.map((a) => a.retryable)}::boolean[],
      ${attempts.map((a) => (a.artifacts ? JSON.stringify(a.artifacts) : null))}::jsonb[],
      ${attempts.map((a) => (a.provenance ? JSON.stringify(a.provenance) : null))}::jsonb[])
    ON CONFLICT (trial_id, number) DO UPDATE SET
      status = GREATEST(a.status, EXCLUDED.status),
      started_at = LEAST(a.started_at, EXCLUDED.started_at),
      finished_at = GREATEST(a.finished_at, EXCLUDED.finished_at),
      heartbeat_at = GREATEST(a.heartbeat_at, EXCLUDED.heartbeat_at),
      total_steps = CASE WHEN EXCLUDED.step >= coalesce(a.step, -1) OR a.total_steps IS NULL
                         THEN coalesce(EXCLUDED.total_steps, a.total_steps) ELSE a.total_steps END,
      phase = CASE WHEN EXCLUDED.step >= coalesce(a.step, -1) THEN coalesce(EXCLUDED.phase, a.phase) ELSE a.phase END,
      step = GREATEST(a.step, EXCLUDED.step),
      host = coalesce(EXCLUDED.host, a.host),
      backend = coalesce(EXCLUDED.backend, a.backend),
      provenance = coalesce(EXCLUDED.provenance, a.provenance),
      job_name = coalesce(a.job_name, EXCLUDED.job_name),
      error = CASE WHEN GREATEST(a.status, EXCLUDED.status) = 'completed' THEN NULL
                   ELSE coalesce(EXCLUDED.error, a.error) END,
      retryable = CASE WHEN GREATEST(a.status, EXCLUDED.status) = 'completed' THEN NULL
                       ELSE coalesce(EXCLUDED.retryable, a.retryable) END,
      artifacts = CASE WHEN EXCLUDED.artifacts IS NULL THEN a.artifacts
                       ELSE coalesce(a.artifacts, '{}'::jsonb) || EXCLUDED.artifacts END`;
}

/** Statuses in which an attempt's end time becomes its trial's (an event can end an attempt so). */
const ENDING_STATUSES = EVENT_STATUSES.filter((s) => TERMINAL_STATUSES.includes(s));

/** Step 4: trials mirror their current attempt (the highest one touched here, if not older than theirs). */
export async function mirrorCurrentAttempts(tx: Tx, attempts: AttemptAgg[]): Promise<void> {
  const top = new Map<string, number>();
  for (const a of attempts) top.set(a.trialId, Math.max(top.get(a.trialId) ?? 0, a.number));
  await tx.$executeRaw`
    UPDATE trial AS t SET
      status = CASE WHEN a.number > t.attempts THEN a.status ELSE GREATEST(t.status, a.status) END,
      attempts = a.number,
      started_at = LEAST(t.started_at, coalesce(a.started_at, a.heartbeat_at)),
      finished_at = CASE WHEN a.number > t.attempts THEN a.finished_at
                         WHEN GREATEST(t.status, a.status) = ANY(${ENDING_STATUSES}::text[]::trial_status[])
                         THEN coalesce(a.finished_at, t.finished_at) ELSE t.finished_at END,
      heartbeat_at = GREATEST(t.heartbeat_at, a.heartbeat_at),
      error = CASE WHEN a.status = 'completed' THEN NULL ELSE coalesce(a.error, t.error) END,
      retryable = CASE WHEN a.status = 'completed' THEN NULL ELSE coalesce(a.retryable, t.retryable) END,
      job_name = coalesce(a.job_name, t.job_name),
      updated_at = now()
    FROM unnest(${[...top.keys()]}::text[], ${[...top.values()]}::int[]) AS v(id, number)
    JOIN attempt a ON a.trial_id = v.id AND a.number = v.number
    WHERE t.id = v.id AND a.number >= t.attempts`;
}

/**
 * Step 5: results, one per trial, of its current attempt only (a later attempt's result replaces an
 * earlier one; a late `completed` of an attempt the controller gave up on stays in its attempt's history).
 */
export async function upsertResults(tx: Tx, events: EventOf<'completed'>[]): Promise<void> {
  const completed = latestPer(events, false);
  if (completed.length === 0) return;
  await tx.$executeRaw`
    INSERT INTO result AS r (trial_id, attempt, accuracy, best_accuracy, loss, seconds, direct_sparsity,
      effective_sparsity, direct_compression, effective_compression, artifacts)
    SELECT v.* FROM unnest(
      ${completed.map((e) => e.trialId)}::text[], ${completed.map((e) => e.attempt)}::int[],
      ${completed.map((e) => e.accuracy)}::float8[], ${completed.map((e) => e.bestAccuracy ?? null)}::float8[],
      ${completed.map((e) => e.loss ?? null)}::float8[], ${completed.map((e) => e.seconds ?? null)}::float8[],
      ${completed.map((e) => e.directSparsity)}::float8[], ${completed.map((e) => e.effectiveSparsity)}::float8[],
      ${completed.map((e) => String(inf(e.directCompression, e.directSparsity)))}::float8[],
      ${completed.map((e) => String(inf(e.effectiveCompression, e.effectiveSparsity)))}::float8[],
      ${completed.map((e) => (e.artifacts ? JSON.stringify(e.artifacts) : null))}::jsonb[])
      AS v(trial_id, attempt, accuracy, best_accuracy, loss, seconds, direct_sparsity, effective_sparsity,
        direct_compression, effective_compression, artifacts)
    JOIN trial t ON t.id = v.trial_id AND t.attempts = v.attempt
    ON CONFLICT (trial_id) DO UPDATE SET
      attempt = EXCLUDED.attempt, accuracy = EXCLUDED.accuracy, best_accuracy = EXCLUDED.best_accuracy,
      loss = EXCLUDED.loss, seconds = EXCLUDED.seconds, direct_sparsity = EXCLUDED.direct_sparsity,
      effective_sparsity = EXCLUDED.effective_sparsity, direct_compression = EXCLUDED.direct_compression,
      effective_compression = EXCLUDED.effective_compression, artifacts = EXCLUDED.artifacts,
      created_at = now()
    WHERE EXCLUDED.attempt >= r.attempt`;
}

/**
 * Step 6: layer counts (the latest sparsity report of each incarnation of an attempt; the reads show
 * the attempt's current incarnation's).
 */
export async function upsertLayers(tx: Tx, events: EventOf<'sparsity'>[]): Promise<void> {
  const layers = latestPer(events, true).flatMap((e) => e.layers.map((layer, idx) => ({ e, layer, idx })));
  if (layers.length === 0) return;
  await tx.$executeRaw`
    INSERT INTO layer_sparsity AS l (trial_id, attempt, incarnation, idx, seq, name, shape, params, direct,
      effective)
    SELECT v.trial_id, v.attempt, v.incarnation, v.idx, v.seq, v.name,
           ARRAY(SELECT jsonb_array_elements_text(v.shape)::int), v.params, v.direct, v.effective
    FROM unnest(
      ${layers.map((x) => x.e.trialId)}::text[], ${layers.map((x) => x.e.attempt)}::int[],
      ${layers.map((x) => incarnationOf(x.e))}::text[],
      ${layers.map((x) => x.idx)}::int[], ${layers.map((x) => x.e.seq)}::int[],
      ${layers.map((x) => x.layer.name)}::text[], ${layers.map((x) => JSON.stringify(x.layer.shape))}::jsonb[],
      ${layers.map((x) => String(x.layer.params))}::int8[], ${layers.map((x) => String(x.layer.direct))}::int8[],
      ${layers.map((x) => String(x.layer.effective))}::int8[])
      AS v(trial_id, attempt, incarnation, idx, seq, name, shape, params, direct, effective)
    ON CONFLICT (trial_id, attempt, incarnation, idx) DO UPDATE SET
      seq = EXCLUDED.seq, name = EXCLUDED.name, shape = EXCLUDED.shape, params = EXCLUDED.params,
      direct = EXCLUDED.direct, effective = EXCLUDED.effective
    WHERE EXCLUDED.seq >= l.seq`;
}

/**
 * The last event (highest seq) per trial, or per incarnation of an attempt. Per trial, the events of
 * an attempt must be of one incarnation (seqs of two are not comparable): applicableEvents' are.
 */
function latestPer<E extends TrialEvent>(events: E[], perIncarnation: boolean): E[] {
  const best = new Map<string, E>();
  for (const e of events) {
    const key = perIncarnation ? `${e.trialId}:${e.attempt}:${incarnationOf(e)}` : e.trialId;
    const current = best.get(key);
    if (!current || e.attempt > current.attempt || (e.attempt === current.attempt && e.seq > current.seq)) {
      best.set(key, e);
    }
  }
  return [...best.values()];
}

/** Step 2: curve points. */
export async function insertPoints(tx: Tx, events: EventOf<'metrics'>[]): Promise<number> {
  if (events.length === 0) return 0;
  let n = 0;
  for (const e of events) n += e.points.length;
  const trial: string[] = new Array(n);
  const attempt: number[] = new Array(n);
  const incarnation: string[] = new Array(n);
  const seq: number[] = new Array(n);
  const idx: number[] = new Array(n);
  const step: number[] = new Array(n);
  const name: string[] = new Array(n);
  const value: number[] = new Array(n);
  let i = 0;
  for (const e of events) {
    e.points.forEach((p, j) => {
      trial[i] = e.trialId;
      attempt[i] = e.attempt;
      incarnation[i] = incarnationOf(e);
      seq[i] = e.seq;
      idx[i] = j;
      step[i] = p.step;
      name[i] = p.name;
      value[i] = p.value;
      i++;
    });
  }
  return insertPointRows(tx, { trial, attempt, incarnation, seq, idx, step, name, value });
}

export interface PointColumns {
  trial: string[];
  attempt: number[];
  /** Absent: every point is of the incarnation '' (workers without one). */
  incarnation?: string[];
  seq: number[];
  idx: number[];
  step: number[];
  name: string[];
  value: number[];
}

/**
 * The bulk insert of curve points (also what bench:ingest measures as the raw rate). No ON CONFLICT:
 * the points belong to events that this transaction has just inserted, so they cannot exist yet.
 */
export function insertPointRows(tx: Tx, c: PointColumns): Promise<number> {
  // JSON numbers can overflow to ±Infinity, which only the text form carries to float8.
  const values = c.value.every(Number.isFinite) ? c.value : c.value.map(String);
  const incarnation = c.incarnation ?? c.trial.map(() => '');
  return tx.$executeRaw`
    INSERT INTO metric_point (trial_id, attempt, incarnation, seq, idx, step, name, value)
    SELECT * FROM unnest(${c.trial}::text[], ${c.attempt}::int[], ${incarnation}::text[], ${c.seq}::int[],
      ${c.idx}::int[], ${c.step}::int[], ${c.name}::text[], ${values}::float8[])`;
}

/** Records dead letters (idempotent on `source`). */
export async function writeDeadLetters(tx: Tx, rows: DeadLetterRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.$executeRaw`
    INSERT INTO dead_letter (source, subject, reason, detail, data)
    SELECT * FROM unnest(${rows.map((r) => r.source)}::text[], ${rows.map((r) => r.subject)}::text[],
      ${rows.map((r) => r.reason)}::text[], ${rows.map((r) => r.detail)}::text[], ${rows.map((r) => r.data)}::text[])
    ON CONFLICT (source) DO NOTHING`;
}
