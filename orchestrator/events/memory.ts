// The in-process transport of the embedded mode (`esweep run` without servers): a bounded queue with
// the same at-least-once contract as JetStream — messages stay until acked, nak redelivers, a msgId
// seen recently is stored once. Worker child processes reach it through the IPC bridge (ipc.ts).
import type {
  DeadLetter,
  EventSink,
  EventSource,
  EventSubscription,
  InboundMessage,
  OutboundMessage,
} from './transport.ts';

interface Stored {
  seq: number;
  subject: string;
  data: Uint8Array;
  deliveries: number;
}

export interface MemoryTransportOptions {
  /** Unacked messages held before `send` waits (default 100k). */
  maxPending?: number;
  /** How many recent msgIds are remembered for deduplication (default 100k). */
  dedupeWindow?: number;
  /** Dead letters kept in memory for inspection (default 1000, oldest dropped). */
  maxDeadLetters?: number;
  onDeadLetter?: (letter: DeadLetter) => void;
}

export class MemoryTransport implements EventSink, EventSource {
  readonly deadLetters: DeadLetter[] = [];
  private readonly ready: Stored[] = [];
  private readonly unacked = new Map<number, Stored>();
  private readonly recentIds = new Set<string>();
  private nextSeq = 1;
  private wakeReader: (() => void) | null = null;
  private readonly spaceWaiters: (() => void)[] = [];
  private readonly emptyWaiters: (() => void)[] = [];
  /** Nakked messages waiting out their delay before they are ready again. */
  private delayed = 0;
  private closed = false;
  private readonly maxPending: number;
  private readonly dedupeWindow: number;
  private readonly maxDeadLetters: number;

  constructor(private readonly options: MemoryTransportOptions = {}) {
    this.maxPending = options.maxPending ?? 100_000;
    this.dedupeWindow = options.dedupeWindow ?? 100_000;
    this.maxDeadLetters = options.maxDeadLetters ?? 1000;
  }

  /** Messages stored and not yet acked. */
  get pending(): number {
    return this.ready.length + this.unacked.size + this.delayed;
  }

  /** Resolves once every message stored is acked (at once if none is pending). */
  whenEmpty(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }

  async send(message: OutboundMessage): Promise<void> {
    if (this.closed) throw new Error('in-process transport is closed');
    if (this.recentIds.has(message.msgId)) return;
    while (this.pending >= this.maxPending) {
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
      if (this.recentIds.has(message.msgId)) return;
    }
    this.recentIds.add(message.msgId);
    if (this.recentIds.size > this.dedupeWindow) {
      const oldest = this.recentIds.values().next().value;
      if (oldest !== undefined) this.recentIds.delete(oldest);
    }
    this.ready.push({ seq: this.nextSeq++, subject: message.subject, data: message.data, deliveries: 0 });
    this.wake();
  }

  async deadLetter(letter: DeadLetter): Promise<void> {
    this.deadLetters.push(letter);
    if (this.deadLetters.length > this.maxDeadLetters) this.deadLetters.shift();
    this.options.onDeadLetter?.(letter);
  }

  async subscribe(): Promise<EventSubscription> {
    // One subscriber at a time (the ingester); what a stopped one left unacked is handed out again.
    const transport = this;
    let active = true;
    const requeue = () => {
      const left = [...transport.unacked.values()].sort((a, b) => a.seq - b.seq);
      transport.unacked.clear();
      transport.ready.unshift(...left);
    };
    requeue();
    const iterator: AsyncIterator<InboundMessage> = {
      async next(): Promise<IteratorResult<InboundMessage>> {
        while (active && !transport.closed) {
          const stored = transport.ready.shift();
          if (stored) {
            stored.deliveries++;
            transport.unacked.set(stored.seq, stored);
            return { done: false, value: transport.inbound(stored) };
          }
          await new Promise<void>((resolve) => {
            transport.wakeReader = resolve;
          });
        }
        return { done: true, value: undefined };
      },
    };
    return {
      [Symbol.asyncIterator]: () => iterator,
      stop: async () => {
        active = false;
        requeue();
        transport.wake();
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake();
  }

  private inbound(stored: Stored): InboundMessage {
    let settled = false;
    return {
      subject: stored.subject,
      data: stored.data,
      source: `memory:${stored.seq}`,
      deliveryCount: stored.deliveries,
      ack: () => {
        if (settled) return;
        settled = true;
        if (this.unacked.delete(stored.seq)) this.acked();
      },
      nak: (delayMs = 0) => {
        if (settled) return;
        settled = true;
        if (!this.unacked.delete(stored.seq)) return;
        const back = () => {
          this.ready.push(stored);
          this.wake();
        };
        if (delayMs <= 0) return back();
        this.delayed++;
        setTimeout(() => {
          this.delayed--;
          back();
        }, delayMs).unref();
      },
      working: () => {},
    };
  }

  private wake(): void {
    const wake = this.wakeReader;
    this.wakeReader = null;
    wake?.();
  }

  private acked(): void {
    while (this.spaceWaiters.length > 0 && this.pending < this.maxPending) this.spaceWaiters.shift()?.();
    if (this.pending === 0) for (const resolve of this.emptyWaiters.splice(0)) resolve();
  }
}
