// Which process of an attempt its row, result, curve and layers belong to (docs/events.md,
// *Incarnations*). A pod replaced within its attempt (an eviction the Job's podFailurePolicy ignores)
// numbers its events from 0 again under a new incarnation id. Every incarnation's events are stored;
// the attempt follows one: the first it hears of, then any whose `started` is later than the current
// one's, unless the attempt already completed. The rule depends only on the events, not on the
// order in which batches bring them, and the current incarnation only ever moves forward.
import { eventSchema, type TrialEvent } from '../events/protocol.ts';
import type { Tx } from './database.ts';
import type { TrialStatus } from './trial-state.ts';

/** The incarnation of an event: '' for workers that send none (one process per attempt). */
export const incarnationOf = (e: Pick<TrialEvent, 'incarnation'>): string => e.incarnation ?? '';

const attemptKey = (trialId: string, number: number) => `${trialId}:${number}`;

/** Code-unit order of two strings (what `<` compares), as a comparator's result. */
export const textOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The one order attempt rows are locked and written in, so concurrent ingesters cannot deadlock. */
export const attemptOrder = (
  a: { trialId: string; number: number },
  b: { trialId: string; number: number },
) => textOrder(a.trialId, b.trialId) || a.number - b.number;

/** An attempt's incarnation as stored (locked for the rest of the transaction). */
export interface AttemptIncarnation {
  trialId: string;
  number: number;
  /** null: no event of the attempt yet. */
  incarnation: string | null;
  /** When the current incarnation sent its `started` (ms), null before it arrived. */
  startedAt: number | null;
  status: TrialStatus;
}

export interface IncarnationChange {
  trialId: string;
  number: number;
  incarnation: string;
  startedAt: number | null;
  /** Another incarnation was the attempt's: its state is replaced by the new one's events. */
  superseded: boolean;
}

/** Statuses after which a new incarnation no longer takes the attempt over. */
const FINAL: readonly TrialStatus[] = ['cancelled', 'completed'];

const later = (at: number, incarnation: string, thanAt: number | null, than: string) =>
  thanAt === null || at > thanAt || (at === thanAt && incarnation > than);

/**
 * Each attempt's incarnation after `events` (new to the database): adopts the first one heard of (the
 * latest started in the batch, else the earliest event's), then moves to a later-started one.
 */
export function decideIncarnations(
  stored: AttemptIncarnation[],
  events: TrialEvent[],
): { current: Map<string, string>; changes: IncarnationChange[] } {
  const byAttempt = new Map<string, TrialEvent[]>();
  for (const e of events) {
    const key = attemptKey(e.trialId, e.attempt);
    const list = byAttempt.get(key);
    if (list) list.push(e);
    else byAttempt.set(key, [e]);
  }
  const current = new Map<string, string>();
  const changes: IncarnationChange[] = [];
  for (const row of stored) {
    const key = attemptKey(row.trialId, row.number);
    const list = byAttempt.get(key) ?? [];
    const time = (e: TrialEvent) => new Date(e.time).getTime();
    const starts = list
      .filter((e) => e.kind === 'started')
      .sort((a, b) => time(a) - time(b) || textOrder(incarnationOf(a), incarnationOf(b)));
    let incarnation = row.incarnation;
    let startedAt = row.startedAt;
    if (incarnation === null && starts.length === 0 && list.length > 0) {
      const first = [...list].sort((a, b) => time(a) - time(b))[0]!;
      incarnation = incarnationOf(first);
    }
    for (const s of starts) {
      const id = incarnationOf(s);
      if (id === incarnation) startedAt ??= time(s);
      else if (
        incarnation === null ||
        (!FINAL.includes(row.status) && later(time(s), id, startedAt, incarnation))
      ) {
        incarnation = id;
        startedAt = time(s);
      }
    }
    if (incarnation === null) continue;
    current.set(key, incarnation);
    if (incarnation !== row.incarnation || startedAt !== row.startedAt) {
      changes.push({
        trialId: row.trialId,
        number: row.number,
        incarnation,
        startedAt,
        superseded: row.incarnation !== null && incarnation !== row.incarnation,
      });
    }
  }
  return { current, changes };
}

/**
 * Locks the attempts `events` touch (creating a missing row, which the writes that follow fill in)
 * and returns their incarnations: concurrent batches decide on the same attempt one after the other.
 */
export async function lockAttempts(tx: Tx, events: TrialEvent[]): Promise<AttemptIncarnation[]> {
  const keys = new Map<string, { trialId: string; number: number }>();
  for (const e of events)
    keys.set(attemptKey(e.trialId, e.attempt), { trialId: e.trialId, number: e.attempt });
  const sorted = [...keys.values()].sort(attemptOrder);
  const rows = await tx.$queryRaw<
    {
      trial_id: string;
      number: number;
      incarnation: string | null;
      incarnation_started_at: Date | null;
      status: TrialStatus;
    }[]
  >`
    INSERT INTO attempt AS a (trial_id, number)
    SELECT * FROM unnest(${sorted.map((k) => k.trialId)}::text[], ${sorted.map((k) => k.number)}::int[])
    ON CONFLICT (trial_id, number) DO UPDATE SET incarnation = a.incarnation
    RETURNING trial_id, number, incarnation, incarnation_started_at, status::text AS status`;
  return rows.map((r) => ({
    trialId: r.trial_id,
    number: r.number,
    incarnation: r.incarnation,
    startedAt: r.incarnation_started_at?.getTime() ?? null,
    status: r.status,
  }));
}

/**
 * Records the changes; a superseded attempt starts over (status, progress, where it runs, error,
 * artifacts): what it reports from now on is the new incarnation's. Its start, last sign of life and
 * job name stay: they are the attempt's.
 */
export async function recordIncarnations(tx: Tx, changes: IncarnationChange[]): Promise<void> {
  if (changes.length === 0) return;
  await tx.$executeRaw`
    UPDATE attempt AS a SET incarnation = v.incarnation, incarnation_started_at = v.started_at,
      status = CASE WHEN v.superseded THEN 'pending' ELSE a.status END,
      step = CASE WHEN v.superseded THEN NULL ELSE a.step END,
      total_steps = CASE WHEN v.superseded THEN NULL ELSE a.total_steps END,
      phase = CASE WHEN v.superseded THEN NULL ELSE a.phase END,
      host = CASE WHEN v.superseded THEN NULL ELSE a.host END,
      backend = CASE WHEN v.superseded THEN NULL ELSE a.backend END,
      provenance = CASE WHEN v.superseded THEN NULL ELSE a.provenance END,
      error = CASE WHEN v.superseded THEN NULL ELSE a.error END,
      retryable = CASE WHEN v.superseded THEN NULL ELSE a.retryable END,
      artifacts = CASE WHEN v.superseded THEN NULL ELSE a.artifacts END,
      finished_at = CASE WHEN v.superseded THEN NULL ELSE a.finished_at END
    FROM unnest(${changes.map((c) => c.trialId)}::text[], ${changes.map((c) => c.number)}::int[],
      ${changes.map((c) => c.incarnation)}::text[],
      ${changes.map((c) => (c.startedAt === null ? null : new Date(c.startedAt).toISOString()))}::timestamptz[],
      ${changes.map((c) => c.superseded)}::boolean[]) AS v(trial_id, number, incarnation, started_at, superseded)
    WHERE a.trial_id = v.trial_id AND a.number = v.number`;
}

/**
 * The events that make a superseded attempt's state again: every stored event of its new incarnation
 * (this batch's included) but the metrics, whose points are stored per incarnation already and whose
 * event rows keep only their count.
 */
export async function storedEventsOf(tx: Tx, changes: IncarnationChange[]): Promise<TrialEvent[]> {
  const superseded = changes.filter((c) => c.superseded);
  if (superseded.length === 0) return [];
  const rows = await tx.$queryRaw<
    {
      sweep_id: string;
      trial_id: string;
      attempt: number;
      incarnation: string;
      seq: number;
      kind: string;
      time: Date;
      payload: unknown;
    }[]
  >`
    SELECT e.sweep_id, e.trial_id, e.attempt, e.incarnation, e.seq, e.kind, e.time, e.payload
    FROM unnest(${superseded.map((c) => c.trialId)}::text[], ${superseded.map((c) => c.number)}::int[],
      ${superseded.map((c) => c.incarnation)}::text[]) AS v(trial_id, attempt, incarnation)
    JOIN event e USING (trial_id, attempt, incarnation)
    WHERE e.kind <> 'metrics'
    ORDER BY e.trial_id, e.attempt, e.seq`;
  const events: TrialEvent[] = [];
  for (const r of rows) {
    const parsed = eventSchema.safeParse({
      ...(r.payload as object),
      v: 1,
      kind: r.kind,
      sweepId: r.sweep_id,
      trialId: r.trial_id,
      attempt: r.attempt,
      ...(r.incarnation ? { incarnation: r.incarnation } : {}),
      seq: r.seq,
      time: r.time.toISOString(),
    });
    // A row that no longer parses (edited by hand) cannot be replayed; the others still are.
    if (parsed.success) events.push(parsed.data);
  }
  return events;
}

/** The new events that act on their attempt: those of its current incarnation. */
export function currentEvents(events: TrialEvent[], current: Map<string, string>): TrialEvent[] {
  return events.filter((e) => current.get(attemptKey(e.trialId, e.attempt)) === incarnationOf(e));
}

/**
 * The events that make each attempt's state in this batch: its current incarnation's new events, and
 * for an attempt taken over by another incarnation, that one's stored events instead (with the
 * batch's metrics, signs of life that the stored rows leave out).
 */
export async function applicableEvents(tx: Tx, news: TrialEvent[]): Promise<TrialEvent[]> {
  const { current, changes } = decideIncarnations(await lockAttempts(tx, news), news);
  await recordIncarnations(tx, changes);
  const replayed = await storedEventsOf(tx, changes);
  if (replayed.length === 0) return currentEvents(news, current);
  const taken = new Set(changes.filter((c) => c.superseded).map((c) => attemptKey(c.trialId, c.number)));
  const kept = currentEvents(news, current).filter(
    (e) => !taken.has(attemptKey(e.trialId, e.attempt)) || e.kind === 'metrics',
  );
  return [...kept, ...replayed];
}
