// The embedded pipeline of `esweep run`: the in-process transport feeding the same Ingester that runs
// against NATS in the cluster, writing to the same repositories (usually on PGlite under .esweep/).
import { MemoryTransport, type MemoryTransportOptions } from '../events/memory.ts';
import { EventPublisher, type PublisherOptions } from '../events/publisher.ts';
import type { EventStore } from '../store/store.ts';
import { Ingester, type IngesterOptions } from './ingester.ts';

export interface EmbeddedPipeline {
  readonly transport: MemoryTransport;
  readonly ingester: Ingester;
  /** A publisher for in-process workers (children use IpcSink + bridgeChild(child, transport)). */
  publisher(options?: PublisherOptions): EventPublisher;
  /** Resolves once everything sent so far is written (and acked). */
  drain(): Promise<void>;
  /** Drains, then stops the ingester. */
  stop(): Promise<void>;
}

export function startEmbeddedPipeline(
  store: EventStore,
  options: { transport?: MemoryTransportOptions; ingester?: IngesterOptions } = {},
): EmbeddedPipeline {
  const transport = new MemoryTransport(options.transport);
  const ingester = new Ingester(store, transport, options.ingester).start();
  // Drained = no message unacked (nor nakked for later) and nothing read-but-unwritten.
  const drain = async () => {
    while (transport.pending > 0 || !ingester.idle)
      await (transport.pending > 0 ? transport.whenEmpty() : ingester.whenIdle());
  };
  return {
    transport,
    ingester,
    publisher: (publisherOptions) => new EventPublisher(transport, publisherOptions),
    drain,
    stop: async () => {
      await drain();
      await ingester.stop();
      await transport.close();
    },
  };
}
