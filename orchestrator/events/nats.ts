// NATS JetStream transport: stream `ESWEEP` on `esweep.v1.>`, dead letters in `ESWEEP_DLQ` on
// `esweep.dlq.v1.<reason>`, a durable pull consumer for the ingester. The client reconnects forever;
// the publisher (publisher.ts) retries what did not get an ack, with the same Nats-Msg-Id.
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
  StorageType,
} from '@nats-io/jetstream';
import {
  connect,
  headers,
  type NatsConnection,
  type NodeConnectionOptions,
  nanos,
} from '@nats-io/transport-node';
import { DEFAULT_STREAM, DEFAULT_SUBJECT_PREFIX, eventSubjects, PROTOCOL_VERSION } from './protocol.ts';
import type {
  DeadLetter,
  EventSink,
  EventSource,
  EventSubscription,
  InboundMessage,
  OutboundMessage,
} from './transport.ts';

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

export interface NatsNames {
  /** Events stream (default `ESWEEP`); dead letters go to `<stream>_DLQ`. */
  stream?: string;
  /** Subject prefix (default `esweep`). */
  prefix?: string;
}

export function resolveNames(names: NatsNames = {}) {
  const stream = names.stream ?? DEFAULT_STREAM;
  const prefix = names.prefix ?? DEFAULT_SUBJECT_PREFIX;
  return {
    stream,
    prefix,
    subjects: eventSubjects(prefix),
    dlqStream: `${stream}_DLQ`,
    dlqSubjects: `${prefix}.dlq.>`,
    dlqSubject: (reason: string) => `${prefix}.dlq.v${PROTOCOL_VERSION}.${reason}`,
  };
}

export interface ConnectOptions {
  /** Server URL(s); default `NATS_URL` or nats://127.0.0.1:4222. */
  servers?: string | string[];
  name?: string;
  /** Further client options (credentials, TLS…), applied over the defaults above. */
  connection?: Partial<NodeConnectionOptions>;
}

/** Connects (waiting for the server if it is not up yet) and reconnects forever. */
export function connectNats(options: ConnectOptions = {}): Promise<NatsConnection> {
  return connect({
    servers: options.servers ?? process.env.NATS_URL ?? DEFAULT_NATS_URL,
    name: options.name ?? 'esweep',
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 100,
    waitOnFirstConnect: true,
    pingInterval: 10_000,
    ...options.connection,
  });
}

export interface StreamOptions extends NatsNames {
  /** Server-side dedupe window of Nats-Msg-Id (default 5 minutes). */
  duplicateWindowMs?: number;
}

/** Creates (or leaves as is) the events and dead-letter streams. Idempotent. */
export async function ensureStreams(nc: NatsConnection, options: StreamOptions = {}): Promise<void> {
  const names = resolveNames(options);
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm, names.stream, names.subjects, options.duplicateWindowMs ?? 5 * 60_000);
  await ensureStream(jsm, names.dlqStream, names.dlqSubjects, 2 * 60_000);
}

async function ensureStream(jsm: JetStreamManager, name: string, subjects: string, windowMs: number) {
  try {
    await jsm.streams.info(name);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    try {
      await jsm.streams.add({
        name,
        subjects: [subjects],
        storage: StorageType.File,
        duplicate_window: nanos(windowMs),
      });
    } catch (addError) {
      // Another process created it in between.
      if (!(addError instanceof JetStreamApiError && addError.code === 10058)) throw addError;
    }
  }
}

function isNotFound(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === 10059 || error.code === 10014 || /not found/i.test(error.message))
  );
}

/** Publishes with Nats-Msg-Id and resolves on the JetStream ack. */
export class NatsEventSink implements EventSink {
  private readonly js: JetStreamClient;

  constructor(
    nc: NatsConnection,
    private readonly timeoutMs = 5000,
  ) {
    this.js = jetstream(nc, { timeout: timeoutMs });
  }

  async send(message: OutboundMessage): Promise<void> {
    await this.js.publish(message.subject, message.data, { msgID: message.msgId, timeout: this.timeoutMs });
  }
}

export interface ConsumerOptions extends NatsNames {
  /** Durable consumer name (default `ingester`); replicas sharing it share the work. */
  durable?: string;
  /** Redelivery delay of an unacked message (default 30 s). */
  ackWaitMs?: number;
  /** Unacked messages the server hands out at once (default 20,000): bounds the ingester's memory. */
  maxAckPending?: number;
  /** Messages per pull (default 1000). */
  pullBatch?: number;
}

/** The ingester's side: a durable pull consumer and the dead-letter stream. */
export class NatsEventSource implements EventSource {
  private readonly js: JetStreamClient;
  private readonly names: ReturnType<typeof resolveNames>;

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: ConsumerOptions = {},
  ) {
    this.js = jetstream(nc);
    this.names = resolveNames(options);
  }

  get durable(): string {
    return this.options.durable ?? 'ingester';
  }

  /** Creates or updates the durable consumer to the configured settings. */
  async ensureConsumer(): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    const config = {
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(this.options.ackWaitMs ?? 30_000),
      max_ack_pending: this.options.maxAckPending ?? 20_000,
      max_deliver: -1,
    };
    try {
      await jsm.consumers.info(this.names.stream, this.durable);
      await jsm.consumers.update(this.names.stream, this.durable, config);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await jsm.consumers.add(this.names.stream, {
        ...config,
        durable_name: this.durable,
        deliver_policy: DeliverPolicy.All,
        filter_subject: this.names.subjects,
      });
    }
  }

  async subscribe(): Promise<EventSubscription> {
    await ensureStreams(this.nc, this.options);
    await this.ensureConsumer();
    const consumer = await this.js.consumers.get(this.names.stream, this.durable);
    const messages = await consumer.consume({ max_messages: this.options.pullBatch ?? 1000 });
    const stream = this.names.stream;
    async function* iterate(): AsyncGenerator<InboundMessage> {
      for await (const m of messages) yield toInbound(m, stream);
    }
    const generator = iterate();
    return {
      [Symbol.asyncIterator]: () => generator,
      stop: async () => {
        await messages.close();
      },
    };
  }

  async deadLetter(letter: DeadLetter): Promise<void> {
    const h = headers();
    h.set('Esweep-Dlq-Reason', letter.reason);
    h.set('Esweep-Dlq-Detail', letter.detail.replace(/[\r\n]+/g, ' ').slice(0, 1000));
    h.set('Esweep-Dlq-Subject', letter.subject);
    h.set('Esweep-Dlq-Source', letter.source);
    await this.js.publish(this.names.dlqSubject(letter.reason), letter.data, {
      headers: h,
      msgID: `dlq:${letter.source}`,
    });
  }
}

function toInbound(m: JsMsg, stream: string): InboundMessage {
  return {
    subject: m.subject,
    data: m.data,
    source: `${stream}:${m.seq}`,
    deliveryCount: m.info.deliveryCount,
    ack: () => m.ack(),
    nak: (delayMs?: number) => m.nak(delayMs),
    working: () => m.working(),
  };
}
