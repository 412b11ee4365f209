// Prometheus metrics of `esweep ingest`: the ingester's tallies (read when scraped), what it holds,
// the consumer's lag as the server reports it, and a histogram of transaction durations.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { IngesterStats } from './stats.ts';

export interface IngesterView {
  readonly stats: IngesterStats;
  readonly held: { messages: number; bytes: number };
}

export interface ConsumerLag {
  /** Messages in the stream not yet delivered, and delivered but not yet acked. */
  lag(): Promise<{ pending: number; ackPending: number }>;
}

export class IngesterMetrics {
  readonly registry = new Registry();
  private readonly writeDuration: Histogram;

  constructor(ingester: () => IngesterView | null, consumer: () => ConsumerLag | null) {
    const registers = [this.registry];
    const tally = (name: string, help: string, read: (stats: IngesterStats) => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          // The tally only grows, so setting the counter to it keeps the counter monotonic.
          const view = ingester();
          this.reset();
          if (view) this.inc(read(view.stats));
        },
      });
    tally('esweep_ingest_deliveries_total', 'Deliveries read, redeliveries included.', (s) => s.messages);
    tally(
      'esweep_ingest_redeliveries_total',
      'Deliveries of a message delivered before.',
      (s) => s.redeliveries,
    );
    tally('esweep_ingest_events_inserted_total', 'Events stored (new).', (s) => s.inserted);
    tally('esweep_ingest_events_duplicate_total', 'Events already stored.', (s) => s.duplicates);
    tally('esweep_ingest_points_total', 'Metric points stored.', (s) => s.points);
    tally('esweep_ingest_batches_total', 'Transactions committed.', (s) => s.batches);
    tally('esweep_ingest_write_errors_total', 'Failed tries to commit a batch.', (s) => s.dbErrors);
    new Counter({
      name: 'esweep_ingest_dead_letters_total',
      help: 'Messages parked as dead letters, by reason.',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        for (const [reason, n] of Object.entries(ingester()?.stats.deadLettersByReason ?? {})) {
          this.inc({ reason }, n);
        }
      },
    });
    new Gauge({
      name: 'esweep_ingest_in_flight_messages',
      help: 'Messages read and not yet acked.',
      registers,
      collect() {
        this.set(ingester()?.held.messages ?? 0);
      },
    });
    new Gauge({
      name: 'esweep_ingest_in_flight_bytes',
      help: 'Bytes of message bodies read and not yet acked.',
      registers,
      collect() {
        this.set(ingester()?.held.bytes ?? 0);
      },
    });
    new Gauge({
      name: 'esweep_ingest_consumer_lag_messages',
      help: 'Messages of the stream not yet acked by the ingesters (pending: not delivered yet).',
      labelNames: ['state'],
      registers,
      async collect() {
        const source = consumer();
        if (!source) return;
        const { pending, ackPending } = await source.lag();
        this.set({ state: 'pending' }, pending);
        this.set({ state: 'ack_pending' }, ackPending);
      },
    });
    this.writeDuration = new Histogram({
      name: 'esweep_ingest_write_duration_seconds',
      help: 'Duration of committed transactions.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    collectDefaultMetrics({ register: this.registry });
  }

  observeWrite(seconds: number): void {
    this.writeDuration.observe(seconds);
  }

  async render(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
