// Worker side of the pipeline. EventPublisher keeps a window of sends in flight (awaiting each
// JetStream ack one by one caps at ~8k msg/s), retries failed sends with backoff for as long as the
// transport is down (same msgId, so a send that did land is stored once), holds at most a bounded
// amount of unsent data (publish() waits for room), and flush() resolves once everything is acked.
// When nothing has been acked for `giveUpAfterMs` while sends fail (server away, stream full), it
// fails for good: publish() and flush() reject with PublishFailedError, so the attempt exits non-zero
// and the controller retries it, instead of hanging until its deadline.
// TrialReporter stamps the protocol header (sweep, trial, attempt, incarnation, seq, time) on each event.
import { randomUUID } from 'node:crypto';
import { Backoff } from '../../common/backoff.ts';
import { ServiceUnavailableError } from '../../common/errors.ts';
import {
  compressionFromSparsity,
  DEFAULT_SUBJECT_PREFIX,
  type EventKind,
  type EventPayload,
  encodeEvent,
  type MetricPointInput,
  messageId,
  PROTOCOL_VERSION,
  subjectFor,
  type TrialEvent,
} from './protocol.ts';
import type { EventSink, OutboundMessage } from './transport.ts';

export interface PublisherOptions {
  /** Sends in flight at once (default 256). */
  window?: number;
  /** Messages held (queued + in flight) before publish() waits (default 10,000). */
  maxMessages?: number;
  /** Bytes held before publish() waits (default 32 MiB). */
  maxBytes?: number;
  /** First retry delay after a failed send, doubled up to maxBackoffMs (defaults 50 ms, 5 s). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Fails for good when sends keep failing and nothing was acked for this long (default 3 min). */
  giveUpAfterMs?: number;
  /** Told about every failed send (it will be retried). */
  onRetry?: (error: unknown, message: OutboundMessage) => void;
}

export const DEFAULT_GIVE_UP_AFTER_MS = 3 * 60_000;

/** The events could not be stored: the server was away or refused them for too long. */
export class PublishFailedError extends ServiceUnavailableError {}

/** Why a send failed, in words an operator acts on. */
export function publishFailureReason(error: unknown): string {
  const text = String((error as Error)?.message ?? error);
  if (/maximum (bytes|messages)|insufficient (storage|resources)|storage.*(full|exceeded)/i.test(text)) {
    return `the JetStream store is full (${text})`;
  }
  if (/no responders|503/i.test(text)) return `no JetStream stream takes the events (${text})`;
  if (/timeout|timed out/i.test(text)) return `the server did not answer (${text})`;
  return text;
}

export interface PublisherStats {
  published: number;
  acked: number;
  failures: number;
  held: number;
  heldBytes: number;
  inFlight: number;
}

interface Entry {
  message: OutboundMessage;
  bytes: number;
}

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

export class EventPublisher {
  private readonly queue: Entry[] = [];
  private queueHead = 0;
  private inFlight = 0;
  private heldBytes = 0;
  private published = 0;
  private acked = 0;
  private failures = 0;
  /** One backoff shared by all sends, so an outage costs one probe per interval, not a storm. */
  private readonly backoff: Backoff;
  private pausedUntil = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly roomWaiters: Waiter[] = [];
  private readonly idleWaiters: Waiter[] = [];
  /** Since when sends fail without an ack in between (0: the last send was acked). */
  private failingSince = 0;
  private fatal: PublishFailedError | null = null;
  private readonly giveUpAfterMs: number;
  private readonly window: number;
  private readonly maxMessages: number;
  private readonly maxBytes: number;

  constructor(
    private readonly sink: EventSink,
    private readonly options: PublisherOptions = {},
  ) {
    this.window = options.window ?? 256;
    this.maxMessages = Math.max(options.maxMessages ?? 10_000, this.window);
    this.maxBytes = options.maxBytes ?? 32 * 1024 * 1024;
    this.giveUpAfterMs = options.giveUpAfterMs ?? DEFAULT_GIVE_UP_AFTER_MS;
    this.backoff = new Backoff({
      initialMs: options.initialBackoffMs ?? 50,
      maxMs: options.maxBackoffMs ?? 5000,
    });
  }

  get stats(): PublisherStats {
    return {
      published: this.published,
      acked: this.acked,
      failures: this.failures,
      held: this.held,
      heldBytes: this.heldBytes,
      inFlight: this.inFlight,
    };
  }

  private get held(): number {
    return this.queue.length - this.queueHead + this.inFlight;
  }

  /** Queues one message; resolves when it is held (not yet acked: see flush()). */
  async publish(message: OutboundMessage): Promise<void> {
    if (this.fatal) throw this.fatal;
    if (this.closed) throw new Error('publisher is closed');
    const bytes = message.data.byteLength;
    while (this.held > 0 && (this.held >= this.maxMessages || this.heldBytes + bytes > this.maxBytes)) {
      await new Promise<void>((resolve, reject) => this.roomWaiters.push({ resolve, reject }));
    }
    this.queue.push({ message, bytes });
    this.heldBytes += bytes;
    this.published++;
    this.pump();
  }

  /**
   * Resolves once every message published so far is acked (waits through outages shorter than
   * giveUpAfterMs); rejects with PublishFailedError once the publisher gave up.
   */
  flush(): Promise<void> {
    if (this.fatal) return Promise.reject(this.fatal);
    if (this.held === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.idleWaiters.push({ resolve, reject }));
  }

  /** Flushes, then refuses further messages (also when the flush fails). */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.closed = true;
      if (this.retryTimer) clearTimeout(this.retryTimer);
    }
  }

  private pump(): void {
    if (this.fatal) return;
    const now = Date.now();
    if (now < this.pausedUntil) {
      this.retryTimer ??= setTimeout(() => {
        this.retryTimer = null;
        this.pump();
      }, this.pausedUntil - now);
      return;
    }
    while (this.inFlight < this.window && this.queueHead < this.queue.length) {
      const entry = this.queue[this.queueHead++]!;
      if (this.queueHead > 4096 && this.queueHead * 2 > this.queue.length) {
        this.queue.splice(0, this.queueHead);
        this.queueHead = 0;
      }
      this.inFlight++;
      this.sink.send(entry.message).then(
        () => this.onAck(entry),
        (error: unknown) => this.onFailure(entry, error),
      );
    }
  }

  private onAck(entry: Entry): void {
    this.inFlight--;
    this.acked++;
    this.heldBytes -= entry.bytes;
    this.backoff.reset();
    this.failingSince = 0;
    while (this.roomWaiters.length > 0 && this.held < this.maxMessages && this.heldBytes < this.maxBytes) {
      this.roomWaiters.shift()?.resolve();
    }
    if (this.held === 0) for (const waiter of this.idleWaiters.splice(0)) waiter.resolve();
    this.pump();
  }

  private onFailure(entry: Entry, error: unknown): void {
    this.inFlight--;
    this.failures++;
    this.options.onRetry?.(error, entry.message);
    if (this.queueHead > 0) this.queue[--this.queueHead] = entry;
    else this.queue.unshift(entry);
    const now = Date.now();
    this.failingSince ||= now;
    if (this.fatal) return;
    if (now - this.failingSince >= this.giveUpAfterMs) {
      this.giveUp(error);
      return;
    }
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + this.backoff.next());
    this.pump();
  }

  private giveUp(error: unknown): void {
    const seconds = Math.round(this.giveUpAfterMs / 1000);
    this.fatal = new PublishFailedError(
      `events not stored for ${seconds} s, giving up with ${this.held} unsent: ${publishFailureReason(error)}`,
    );
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const waiter of [...this.roomWaiters.splice(0), ...this.idleWaiters.splice(0)]) {
      waiter.reject(this.fatal);
    }
  }
}

/** A new incarnation id: one per worker process, chosen when it starts. */
export function workerIncarnation(): string {
  return randomUUID();
}

export interface TrialReporterOptions {
  sweepId: string;
  trialId: string;
  attempt: number;
  /** Subject prefix (default `esweep`). */
  prefix?: string;
  /**
   * This process's id within its attempt (docs/events.md, *Incarnations*). A worker process passes a
   * fresh one (see workerIncarnation): a replacement pod of the same attempt numbers its events from
   * 0 again, and only this id tells them from the replaced pod's. Without it the events carry none,
   * which is right only when one process sends all of the attempt's events (tests, tools).
   */
  incarnation?: string;
  /** First sequence number (default 0): seq numbers the events of one incarnation. */
  firstSeq?: number;
  /** Points per metrics event (default 500). */
  maxPointsPerEvent?: number;
  /** Buffered points are sent at least this often (default 1000 ms). */
  metricsFlushMs?: number;
  now?: () => Date;
}

/**
 * One attempt's events. `metric()` buffers points and sends them in metrics events of up to
 * `maxPointsPerEvent`; every other method sends one event (after the buffered points, so a
 * `completed` event never overtakes the last curve points in the publisher's queue).
 */
export class TrialReporter {
  private seq: number;
  private points: MetricPointInput[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly prefix: string;
  private readonly maxPoints: number;

  constructor(
    private readonly publisher: EventPublisher,
    private readonly options: TrialReporterOptions,
  ) {
    this.seq = options.firstSeq ?? 0;
    this.prefix = options.prefix ?? DEFAULT_SUBJECT_PREFIX;
    this.maxPoints = options.maxPointsPerEvent ?? 500;
  }

  /** The next sequence number to be used. */
  get nextSeq(): number {
    return this.seq;
  }

  started(payload: EventPayload<'started'> = {}): Promise<void> {
    return this.send('started', payload);
  }
  progress(payload: EventPayload<'progress'>): Promise<void> {
    return this.send('progress', payload);
  }
  heartbeat(payload: EventPayload<'heartbeat'> = {}): Promise<void> {
    return this.send('heartbeat', payload);
  }
  sparsity(payload: EventPayload<'sparsity'>): Promise<void> {
    return this.send('sparsity', payload);
  }
  completed(payload: EventPayload<'completed'>): Promise<void> {
    return this.send('completed', {
      ...payload,
      directCompression:
        payload.directCompression !== undefined
          ? payload.directCompression
          : compressionFromSparsity(payload.directSparsity),
      effectiveCompression:
        payload.effectiveCompression !== undefined
          ? payload.effectiveCompression
          : compressionFromSparsity(payload.effectiveSparsity),
    });
  }
  failed(payload: EventPayload<'failed'>): Promise<void> {
    return this.send('failed', payload);
  }

  /** Buffers one curve point (sent within metricsFlushMs or when the buffer is full). */
  async metric(step: number, name: string, value: number): Promise<void> {
    this.points.push({ step, name, value });
    if (this.points.length >= this.maxPoints) await this.sendPoints();
    else this.timer ??= setTimeout(() => void this.sendPoints(), this.options.metricsFlushMs ?? 1000).unref();
  }

  /** Sends many points at once, split into events of at most maxPointsPerEvent. */
  async metrics(points: MetricPointInput[]): Promise<void> {
    for (const point of points) this.points.push(point);
    while (this.points.length >= this.maxPoints) await this.sendPoints();
    if (this.points.length > 0) await this.sendPoints();
  }

  /** Sends buffered points and waits until everything this process published is acked. */
  async flush(): Promise<void> {
    await this.sendPoints();
    await this.publisher.flush();
  }

  private async sendPoints(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.points.length > 0) {
      const chunk = this.points.splice(0, this.maxPoints);
      await this.emit({ kind: 'metrics', points: chunk } as Partial<TrialEvent>);
    }
  }

  private async send<K extends EventKind>(kind: K, payload: EventPayload<K>): Promise<void> {
    await this.sendPoints();
    await this.emit({ ...payload, kind } as unknown as Partial<TrialEvent>);
  }

  private emit(body: Partial<TrialEvent>): Promise<void> {
    const event = {
      v: PROTOCOL_VERSION,
      sweepId: this.options.sweepId,
      trialId: this.options.trialId,
      attempt: this.options.attempt,
      ...(this.options.incarnation ? { incarnation: this.options.incarnation } : {}),
      seq: this.seq++,
      time: (this.options.now?.() ?? new Date()).toISOString(),
      ...body,
    } as TrialEvent;
    return this.publisher.publish({
      subject: subjectFor(event, this.prefix),
      data: encodeEvent(event),
      msgId: messageId(event),
    });
  }
}
