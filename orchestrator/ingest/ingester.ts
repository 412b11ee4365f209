// The ingester: reads an EventSource (NATS durable pull consumer, or the in-process transport), writes
// what it read in batches — one transaction per batch — and acks only after the commit. A message that
// does not validate (or names an unknown trial) is recorded in `dead_letter`, published on the
// dead-letter subject and acked, so it never stops the stream. While the database is unreachable it
// keeps the batch, acks nothing, retries with backoff, and reads nothing new; everything it holds
// (bounded in count and bytes, and to one batch beyond those being written) is kept in progress with
// `working()`, so the server redelivers none.
import { setTimeout as sleep } from 'node:timers/promises';
import { Backoff, type BackoffPolicy } from '../../common/backoff.ts';
import { type DecodeResult, decodeEvent, type TrialEvent } from '../events/protocol.ts';
import type { EventSource, EventSubscription, InboundMessage } from '../events/transport.ts';
import type { DeadLetterRow, EventStore } from '../store/store.ts';
import { bisectWrite, type Part } from './bisect.ts';
import { isDataError, retryWrite, type WriteOutcome } from './retry.ts';
import { emptyStats, type IngesterStats, recordBatch, recordFailure } from './stats.ts';

export interface IngesterOptions {
  /** Messages per transaction at most (default 2000). */
  maxBatch?: number;
  /** Bytes of message bodies per transaction at most (default 2 MiB: ~20k curve points). */
  maxBatchBytes?: number;
  /** Batches written at once, each in its own transaction (default 2; PGlite runs them in turn). */
  concurrency?: number;
  /**
   * Messages held (read and not yet acked) at most (default 10,000). The reader also waits while a
   * whole batch waits for the writer, so at most `concurrency` + 1 batches are held.
   */
  maxBuffered?: number;
  /** Bytes of message bodies held at most (default 64 MiB). */
  maxBufferedBytes?: number;
  /** Messages held this long are told `working()` again (default 10 s: a third of the ack wait). */
  keepAliveMs?: number;
  /** Told the duration of every transaction that committed. */
  observeWrite?: (seconds: number) => void;
  /** Backoff between retries of a failed batch or subscription (defaults 100 ms doubling to 5 s). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Interactive transaction timeout (default 120 s). */
  transactionTimeoutMs?: number;
  /** Structured log lines (default: none). */
  log?: (entry: Record<string, unknown>) => void;
  /** How far an event's time may lie ahead of its receipt (default 60 s; see events/validation.ts). */
  maxClockSkewMs?: number;
  /**
   * How long after a commit or a ping the database counts as answering, so that a data error is
   * trusted without asking it again (default 1 s).
   */
  answeredRecentlyMs?: number;
}

interface Entry {
  source: string;
  subject: string;
  data: Uint8Array;
  /** The latest delivery of this stream message (a redelivery replaces the one before). */
  handle: InboundMessage;
  bytes: number;
  /** When the server was last told that we hold it (delivery or `working()`). */
  touched: number;
  /** Decoded when read, so decoding overlaps the writer's wait on the database. */
  decoded: DecodeResult;
}

interface ValidEntry {
  entry: Entry;
  event: TrialEvent;
}

interface DeadEntry {
  entry: Entry;
  reason: string;
  detail: string;
}

const textDecoder = new TextDecoder();

export class Ingester {
  readonly stats: IngesterStats = emptyStats();
  private readonly buffered = new Map<string, Entry>();
  private readonly working = new Map<string, Entry>();
  private subscription: EventSubscription | null = null;
  private stopping = false;
  private wakeWriter: (() => void) | null = null;
  private wakeReader: (() => void) | null = null;
  private readonly idleWaiters: (() => void)[] = [];
  private loops: Promise<unknown> | null = null;
  private readonly maxBatch: number;
  private readonly maxBatchBytes: number;
  private readonly maxBuffered: number;
  private readonly maxBufferedBytes: number;
  private heldBytes = 0;
  /** Bytes of the messages read and not yet taken into a batch. */
  private bufferedBytes = 0;
  /** True from a failed write until the next that commits: read nothing new meanwhile. */
  private writerFailing = false;
  private keepAlive: NodeJS.Timeout | null = null;
  private readonly concurrency: number;
  private readonly backoff: BackoffPolicy;
  /** When a write last committed or a ping last answered (performance.now()). */
  private answeredAt = Number.NEGATIVE_INFINITY;
  private pinging: Promise<boolean> | null = null;

  constructor(
    private readonly store: EventStore,
    private readonly source: EventSource,
    private readonly options: IngesterOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 2000;
    this.maxBatchBytes = options.maxBatchBytes ?? 2 * 1024 * 1024;
    this.maxBuffered = options.maxBuffered ?? 10_000;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 64 * 1024 * 1024;
    this.concurrency = Math.max(1, options.concurrency ?? 2);
    this.backoff = { initialMs: options.initialBackoffMs ?? 100, maxMs: options.maxBackoffMs ?? 5000 };
  }

  /** Starts reading and writing in the background. */
  start(): this {
    if (!this.loops) {
      const every = this.options.keepAliveMs ?? 10_000;
      this.keepAlive = setInterval(() => this.touchHeld(every), Math.max(50, Math.floor(every / 2)));
      this.loops = Promise.all([this.readLoop(), this.writeLoop()]);
    }
    return this;
  }

  /** Messages and bytes held: read and not yet acked. */
  get held(): { messages: number; bytes: number } {
    return { messages: this.buffered.size + this.working.size, bytes: this.heldBytes };
  }

  /** Tells the server we still work on every message held for `olderThanMs` or more. */
  private touchHeld(olderThanMs: number): void {
    const now = Date.now();
    for (const map of [this.working, this.buffered]) {
      for (const entry of map.values()) {
        if (now - entry.touched < olderThanMs) continue;
        entry.handle.working();
        entry.touched = now;
      }
    }
  }

  /** Stops reading, finishes the batch in progress; messages read but not written are redelivered. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.subscription?.stop().catch(() => {});
    this.wakeReader?.();
    this.wakeWriter?.();
    await this.loops;
    if (this.keepAlive) clearInterval(this.keepAlive);
    for (const entry of this.buffered.values()) entry.handle.nak();
    this.buffered.clear();
    this.heldBytes = 0;
    this.bufferedBytes = 0;
    this.notifyIdle();
  }

  /** True when nothing is read-but-unwritten. */
  get idle(): boolean {
    return this.buffered.size === 0 && this.working.size === 0;
  }

  /** Resolves the next time nothing is read-but-unwritten. */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private log(entry: Record<string, unknown>): void {
    this.options.log?.({ time: new Date().toISOString(), ...entry });
  }

  private async readLoop(): Promise<void> {
    const backoff = new Backoff(this.backoff);
    while (!this.stopping) {
      try {
        this.subscription = await this.source.subscribe();
        backoff.reset();
        for await (const message of this.subscription) {
          this.accept(message);
          while (this.mustWait() && !this.stopping) {
            await new Promise<void>((resolve) => {
              this.wakeReader = resolve;
            });
          }
          if (this.stopping) break;
        }
      } catch (error) {
        this.log({ level: 'warn', msg: 'subscription failed, retrying', error: String(error) });
      }
      if (!this.stopping) await sleep(backoff.next());
    }
  }

  /**
   * Full, the writer cannot write, or a whole batch already waits for it: read nothing more until
   * that changes. Reading further ahead writes nothing sooner; it holds more, and every message held
   * is one more to keep alive with `working()` on every round of the keep-alive.
   */
  private mustWait(): boolean {
    const { messages, bytes } = this.held;
    const batchWaiting = this.buffered.size >= this.maxBatch || this.bufferedBytes >= this.maxBatchBytes;
    return (
      messages >= this.maxBuffered || bytes >= this.maxBufferedBytes || this.writerFailing || batchWaiting
    );
  }

  private accept(message: InboundMessage): void {
    this.stats.messages++;
    if (message.deliveryCount > 1) this.stats.redeliveries++;
    const existing = this.working.get(message.source) ?? this.buffered.get(message.source);
    if (existing) {
      // The same stream message again: its latest delivery is the one to ack, the copy is dropped.
      existing.handle = message;
      existing.touched = Date.now();
      return;
    }
    const bytes = message.data.byteLength;
    this.heldBytes += bytes;
    this.bufferedBytes += bytes;
    this.buffered.set(message.source, {
      source: message.source,
      subject: message.subject,
      data: message.data,
      handle: message,
      bytes,
      touched: Date.now(),
      decoded: decodeEvent(message.subject, message.data, { maxSkewMs: this.options.maxClockSkewMs }),
    });
    this.wakeWriter?.();
  }

  private release(entry: Entry): void {
    if (this.working.delete(entry.source)) this.heldBytes -= entry.bytes;
    if (!this.mustWait()) this.wakeReader?.();
  }

  private takeBatch(): Entry[] {
    const batch: Entry[] = [];
    let bytes = 0;
    for (const [source, entry] of this.buffered) {
      if (
        batch.length >= this.maxBatch ||
        (batch.length > 0 && bytes + entry.data.byteLength > this.maxBatchBytes)
      ) {
        break;
      }
      batch.push(entry);
      bytes += entry.data.byteLength;
      this.bufferedBytes -= entry.bytes;
      this.buffered.delete(source);
      this.working.set(source, entry);
    }
    return batch;
  }

  private async writeLoop(): Promise<void> {
    // Up to `concurrency` batches in flight, each its own transaction on its own connection: the
    // database can insert one batch while the previous commits. Statements lock rows in one order
    // (see store/event-writes.ts), and every effect is monotonic, so batches may commit in any order.
    const running = new Set<Promise<void>>();
    while (!this.stopping) {
      if (this.buffered.size === 0 || running.size >= this.concurrency) {
        if (running.size === 0) this.notifyIdle();
        const woken = new Promise<void>((resolve) => {
          this.wakeWriter = resolve;
        });
        await Promise.race([woken, ...running]);
        this.wakeWriter = null;
        continue;
      }
      const batch = this.takeBatch();
      if (!this.mustWait()) this.wakeReader?.();
      const done: Promise<void> = this.processBatch(batch)
        .catch((error: unknown) => this.log({ level: 'error', msg: 'batch failed', error: String(error) }))
        .finally(() => {
          for (const entry of batch) this.release(entry);
          running.delete(done);
          this.notifyIdle();
        });
      running.add(done);
    }
    await Promise.all(running);
  }

  private notifyIdle(): void {
    if (!this.idle) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async processBatch(batch: Entry[]): Promise<void> {
    const valid: ValidEntry[] = [];
    const dead: DeadEntry[] = [];
    for (const entry of batch) {
      const decoded = entry.decoded;
      if (decoded.ok) valid.push({ entry, event: decoded.event });
      else dead.push({ entry, reason: decoded.reason, detail: decoded.detail });
    }
    const deadLetters = await this.commit(valid, dead);
    if (!deadLetters) return; // stopping while the database was down: nothing acked, all redelivered
    // Dead letters are published after the commit; one that cannot be is left unacked (redelivered).
    const unpublished = new Set<Entry>();
    for (const d of deadLetters) {
      try {
        await this.source.deadLetter({
          subject: d.entry.subject,
          data: d.entry.data,
          source: d.entry.source,
          reason: d.reason,
          detail: d.detail,
        });
        this.log({
          level: 'warn',
          msg: 'dead letter',
          reason: d.reason,
          detail: d.detail,
          subject: d.entry.subject,
        });
      } catch (error) {
        unpublished.add(d.entry);
        this.log({ level: 'warn', msg: 'dead letter not published, will retry', error: String(error) });
      }
    }
    for (const entry of batch) {
      try {
        if (unpublished.has(entry)) entry.handle.nak(1000);
        else entry.handle.ack();
      } catch (error) {
        // The connection is gone: the server redelivers, and the write is idempotent.
        this.log({ level: 'warn', msg: 'ack failed', error: String(error) });
      }
    }
  }

  /**
   * Writes the batch's events and dead letters in one transaction, retrying until it commits; a batch
   * the database keeps refusing for its data is split until the message at fault is found, and that
   * one becomes a dead letter (reason `rejected`). Returns every dead letter written, or null when
   * stopped first.
   */
  private async commit(valid: ValidEntry[], dead: DeadEntry[]): Promise<DeadEntry[] | null> {
    const written = await bisectWrite(
      { items: valid, dead },
      (part) => this.writeRetrying(part),
      (v, detail): DeadEntry => ({ entry: v.entry, reason: 'rejected', detail }),
    );
    return written ? written.flat() : null;
  }

  private writeRetrying(part: Part<ValidEntry, DeadEntry>): Promise<WriteOutcome<DeadEntry[]>> {
    return retryWrite(() => this.writeOnce(part), {
      backoff: this.backoff,
      refusable: part.items.length > 0,
      stopped: () => this.stopping,
      databaseAnswers: () => this.databaseAnswers(),
      onFailure: (error, failures) => {
        recordFailure(this.stats, error);
        // A refusal of the data is split at once; anything else means the database cannot write.
        if (!isDataError(error)) this.writerFailing = true;
        this.log({
          level: 'warn',
          msg: isDataError(error) ? 'batch refused, splitting it' : 'batch not written, retrying',
          failures,
          error: this.stats.lastError,
        });
      },
    });
  }

  /** One transaction: the events, then the part's dead letters and the events the write rejected. */
  private async writeOnce(part: Part<ValidEntry, DeadEntry>): Promise<DeadEntry[]> {
    const t0 = performance.now();
    const dead = [...part.dead];
    const outcome = await this.store.writeEventBatch(
      part.items.map((v) => v.event),
      (result) => {
        dead.push(...rejectedEntries(part.items, result.rejected));
        return dead.map(deadRow);
      },
      { timeoutMs: this.options.transactionTimeoutMs },
    );
    this.answeredAt = performance.now();
    const seconds = (this.answeredAt - t0) / 1000;
    this.writerFailing = false;
    this.wakeReader?.();
    this.options.observeWrite?.(seconds);
    recordBatch(this.stats, outcome, dead);
    this.log({
      level: 'debug',
      msg: 'batch',
      messages: part.items.length + part.dead.length,
      inserted: outcome.inserted,
      duplicates: outcome.duplicates,
      points: outcome.points,
      deadLetters: dead.length,
      ms: Math.round(seconds * 1000),
    });
    return dead;
  }

  /**
   * Whether the database answers: it did if a write committed or a ping answered lately
   * (`answeredRecentlyMs`); else one ping, shared by every refusal waiting for it (a search for
   * refused messages meets many refusals at once, and each would otherwise cost a round trip).
   */
  private databaseAnswers(): Promise<boolean> {
    const recently = this.options.answeredRecentlyMs ?? 1000;
    if (performance.now() - this.answeredAt < recently) return Promise.resolve(true);
    this.pinging ??= this.ping().finally(() => {
      this.pinging = null;
    });
    return this.pinging;
  }

  private async ping(): Promise<boolean> {
    try {
      await Promise.race([
        this.store.ping(),
        sleep(5000).then(() => {
          throw new Error('timeout');
        }),
      ]);
      this.answeredAt = performance.now();
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * The queue entries behind the events the write rejected: the store names each rejected copy, so one
 * of two messages with the same id (a conflict) is matched by identity.
 */
function rejectedEntries(
  items: ValidEntry[],
  rejected: { event: TrialEvent; reason: string; detail: string }[],
): DeadEntry[] {
  const entryOf = new Map(items.map((v) => [v.event, v.entry]));
  return rejected.flatMap((r) => {
    const entry = entryOf.get(r.event);
    return entry ? [{ entry, reason: r.reason, detail: r.detail }] : [];
  });
}

function deadRow(d: DeadEntry): DeadLetterRow {
  return {
    source: d.entry.source,
    subject: d.entry.subject,
    reason: d.reason,
    detail: d.detail,
    data: textDecoder.decode(d.entry.data).replaceAll('\u0000', '\\u0000'),
  };
}
