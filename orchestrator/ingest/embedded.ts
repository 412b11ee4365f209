// The embedded pipeline of `esweep run`: the in-process transport feeding the same Ingester that runs
// against NATS in the cluster, writing to the same repositories (usually on PGlite under .esweep/).
import type { PrismaClient } from '../db/client.ts';
import { MemoryTransport, type MemoryTransportOptions } from '../events/memory.ts';
import { EventPublisher, type PublisherOptions } from '../events/publisher.ts';
import type { EventSource } from '../events/transport.ts';
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

/** `source` as the ingester reads it, with `onAck` called after each of its messages is acked. */
function observeAcks(source: EventSource, onAck: () => void): EventSource {
  return {
    deadLetter: (letter) => source.deadLetter(letter),
    subscribe: async () => {
      const subscription = await source.subscribe();
      return {
        stop: () => subscription.stop(),
        async *[Symbol.asyncIterator]() {
          for await (const message of subscription) {
            yield {
              subject: message.subject,
              data: message.data,
              source: message.source,
              deliveryCount: message.deliveryCount,
              ack: () => {
                message.ack();
                onAck();
              },
              nak: (delayMs?: number) => message.nak(delayMs),
              working: () => message.working(),
            };
          }
        },
      };
    },
  };
}

export function startEmbeddedPipeline(
  prisma: PrismaClient,
  options: { transport?: MemoryTransportOptions; ingester?: IngesterOptions } = {},
): EmbeddedPipeline {
  const transport = new MemoryTransport(options.transport);
  // Drained = no message unacked and nothing read-but-unwritten. The transport's unacked count only
  // falls on an ack, so acks wake the waiters for it; the ingester tells when it is idle.
  const emptyWaiters: (() => void)[] = [];
  const onAck = () => {
    if (transport.pending === 0) for (const resolve of emptyWaiters.splice(0)) resolve();
  };
  const ingester = new Ingester(prisma, observeAcks(transport, onAck), options.ingester).start();
  const drain = async () => {
    while (transport.pending > 0 || !ingester.idle) {
      await (transport.pending > 0
        ? new Promise<void>((resolve) => emptyWaiters.push(resolve))
        : ingester.whenIdle());
    }
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
