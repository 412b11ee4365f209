// NATS JetStream transport: stream `ESWEEP` on `esweep.v1.>` (work-queue retention: an event is
// deleted once the ingester acks it; bounded in bytes, a full stream refuses new events), dead
// letters in `ESWEEP_DLQ` on `esweep.dlq.v1.<reason>` (limits: age and bytes), a durable pull
// consumer for the ingester that pulls only when asked. Once connected the client reconnects
// forever; the publisher (publisher.ts) retries what did not get an ack, with the same Nats-Msg-Id.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import {
  connect,
  headers,
  type NatsConnection,
  type NodeConnectionOptions,
  nanos,
} from '@nats-io/transport-node';
import { Backoff } from '../../common/backoff.ts';
import { ServiceUnavailableError } from '../../common/errors.ts';
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

/** Default time a client keeps trying to reach the server before it gives up (3 minutes). */
export const DEFAULT_CONNECT_DEADLINE_MS = 3 * 60_000;

export interface ConnectAttempt {
  attempt: number;
  servers: string;
  error: string;
  /** Milliseconds until the next attempt. */
  retryInMs: number;
}

export interface ConnectOptions {
  /** Server URL(s); default `NATS_URL` or nats://127.0.0.1:4222. */
  servers?: string | string[];
  name?: string;
  /**
   * Gives up (ServiceUnavailableError) when no attempt succeeded for this long (default 3 minutes;
   * 0 = keep trying). Once connected, the client reconnects forever.
   */
  deadlineMs?: number;
  /** Told about every failed attempt (e.g. to log it). */
  onAttempt?: (attempt: ConnectAttempt) => void;
  /** Further client options (credentials, TLS…), applied over the defaults above. */
  connection?: Partial<NodeConnectionOptions>;
}

/**
 * Connects, retrying with backoff (250 ms doubling to 5 s) and reporting each failed attempt, until
 * the deadline; the connection then reconnects forever on its own.
 */
export async function connectNats(options: ConnectOptions = {}): Promise<NatsConnection> {
  const servers = options.servers ?? process.env.NATS_URL ?? DEFAULT_NATS_URL;
  const deadlineMs = options.deadlineMs ?? DEFAULT_CONNECT_DEADLINE_MS;
  const giveUpAt = deadlineMs > 0 ? Date.now() + deadlineMs : Number.POSITIVE_INFINITY;
  const backoff = new Backoff({ initialMs: 250, maxMs: 5000 });
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect({
        servers,
        name: options.name ?? 'esweep',
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        reconnectJitter: 100,
        waitOnFirstConnect: false,
        pingInterval: 10_000,
        timeout: 5000,
        ...options.connection,
      });
    } catch (error) {
      const where = Array.isArray(servers) ? servers.join(',') : servers;
      const retryInMs = Math.min(backoff.next(), Math.max(0, giveUpAt - Date.now()));
      options.onAttempt?.({ attempt, servers: where, error: errorText(error), retryInMs });
      if (Date.now() + retryInMs >= giveUpAt) {
        throw new ServiceUnavailableError(
          `cannot reach NATS at ${where} after ${attempt} attempts in ${Math.round(deadlineMs / 1000)} s: ${errorText(error)}`,
        );
      }
      await sleep(retryInMs);
    }
  }
}

function errorText(error: unknown): string {
  const e = error as { message?: unknown; code?: unknown };
  return (
    String(e?.message ?? error) +
    (e?.code && !String(e.message).includes(String(e.code)) ? ` (${e.code})` : '')
  );
}

export interface StreamOptions extends NatsNames {
  /** Server-side dedupe window of Nats-Msg-Id (default 5 minutes). */
  duplicateWindowMs?: number;
  /** Bytes the events stream may hold (default 1 GiB); a full stream refuses new events. */
  maxBytes?: number;
  /** Bytes the dead-letter stream keeps (default 256 MiB; the oldest go first). */
  dlqMaxBytes?: number;
  /** How long dead letters stay in their stream (default 30 days; the table keeps them). */
  dlqMaxAgeMs?: number;
}

export const DEFAULT_STREAM_MAX_BYTES = 1024 ** 3;
export const DEFAULT_DLQ_MAX_BYTES = 256 * 1024 ** 2;
export const DEFAULT_DLQ_MAX_AGE_MS = 30 * 24 * 3600_000;

/** The configuration of the events and dead-letter streams. */
export function streamConfigs(options: StreamOptions = {}): Partial<StreamConfig>[] {
  const names = resolveNames(options);
  return [
    {
      name: names.stream,
      subjects: [names.subjects],
      storage: StorageType.File,
      // Deleted once acked by the ingester's consumer: ingested events free their space.
      retention: RetentionPolicy.Workqueue,
      max_bytes: options.maxBytes ?? DEFAULT_STREAM_MAX_BYTES,
      // Full: refuse new events (the publisher retries, then fails its attempt), never drop old ones.
      discard: DiscardPolicy.New,
      max_age: 0,
      duplicate_window: nanos(options.duplicateWindowMs ?? 5 * 60_000),
    },
    {
      name: names.dlqStream,
      subjects: [names.dlqSubjects],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      max_bytes: options.dlqMaxBytes ?? DEFAULT_DLQ_MAX_BYTES,
      max_age: nanos(options.dlqMaxAgeMs ?? DEFAULT_DLQ_MAX_AGE_MS),
      discard: DiscardPolicy.Old,
      duplicate_window: nanos(2 * 60_000),
    },
  ];
}

/**
 * Creates the events and dead-letter streams, or updates them where their configuration differs
 * from `options`. Idempotent. An events stream of another retention (limits, as created by earlier
 * versions) cannot be changed by the server: that is an error naming the way out.
 */
export async function ensureStreams(nc: NatsConnection, options: StreamOptions = {}): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const config of streamConfigs(options)) await ensureStream(jsm, config);
}

/** The fields ensureStream keeps in line with the desired configuration. */
const MANAGED = ['subjects', 'max_bytes', 'max_age', 'discard', 'duplicate_window'] as const;

export async function ensureStream(jsm: JetStreamManager, desired: Partial<StreamConfig>): Promise<void> {
  const name = desired.name!;
  let current: StreamConfig;
  try {
    current = (await jsm.streams.info(name)).config;
  } catch (error) {
    if (!isNotFound(error)) throw error;
    try {
      await jsm.streams.add({ ...desired, name });
      return;
    } catch (addError) {
      // Another process created it in between: check that one.
      if (!(addError instanceof JetStreamApiError && addError.code === 10058)) throw addError;
      current = (await jsm.streams.info(name)).config;
    }
  }
  if (desired.retention !== undefined && current.retention !== desired.retention) {
    throw new Error(
      `stream ${name} has retention '${current.retention}', this version needs '${desired.retention}' and the server cannot change it: let the ingester catch up, stop the workers, delete the stream (nats stream rm ${name}) and start the ingester again`,
    );
  }
  const changed = MANAGED.filter(
    (key) => desired[key] !== undefined && JSON.stringify(current[key]) !== JSON.stringify(desired[key]),
  );
  if (changed.length > 0) await jsm.streams.update(name, { ...current, ...desired });
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

export interface ConsumerOptions extends StreamOptions {
  /** Durable consumer name (default `ingester`); replicas sharing it share the work. */
  durable?: string;
  /** Redelivery delay of an unacked message (default 30 s). */
  ackWaitMs?: number;
  /**
   * Unacked messages the server hands out at once, to all replicas together (default 10,000): the
   * most the ingesters can hold, whatever they do.
   */
  maxAckPending?: number;
  /** Messages per pull at most (default 500). */
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
      max_ack_pending: this.options.maxAckPending ?? 10_000,
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

  /**
   * Pulls one batch (up to pullBatch messages) at a time, and the next only once the
   * reader has taken every message of the last: a reader that stops reading stops the pulling, so
   * the server keeps what was not asked for. Messages pulled but not yet read are kept in progress
   * (`working()` every third of the ack wait), so a slow reader causes no redelivery.
   */
  async subscribe(): Promise<EventSubscription> {
    await ensureStreams(this.nc, this.options);
    await this.ensureConsumer();
    const consumer = await this.js.consumers.get(this.names.stream, this.durable);
    const stream = this.names.stream;
    const pull = { max_messages: this.options.pullBatch ?? 500 };
    const unread: { message: JsMsg; since: number }[] = [];
    const keepAliveMs = Math.max(100, Math.floor((this.options.ackWaitMs ?? 30_000) / 3));
    const keepAlive = setInterval(() => {
      const now = Date.now();
      for (const held of unread) {
        if (now - held.since < keepAliveMs) continue;
        held.message.working();
        held.since = now;
      }
    }, keepAliveMs);
    let stopped = false;
    let current: ConsumerMessages | null = null;
    let fetching = false;
    let failure: unknown = null;
    let wake: (() => void) | null = null;
    // The next pull starts once the last is complete and the reader has taken half of it: at most
    // 1.5 pulls are held unread, and a reader that stops reading stops the pulling.
    const pump = async () => {
      if (fetching || stopped || unread.length > pull.max_messages / 2) return;
      fetching = true;
      try {
        const batch = await consumer.fetch({ ...pull, expires: 5000 });
        current = batch;
        // Taken off the client's queue as they arrive, so the keep-alive sees every message held.
        for await (const message of batch) {
          unread.push({ message, since: Date.now() });
          wake?.();
        }
      } catch (error) {
        failure = error;
      } finally {
        fetching = false;
        current = null;
        wake?.();
      }
    };
    async function* iterate(): AsyncGenerator<InboundMessage> {
      try {
        while (!stopped) {
          void pump();
          const held = unread.shift();
          if (held) {
            yield toInbound(held.message, stream);
            continue;
          }
          if (failure) throw failure;
          if (!fetching) continue;
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = null;
        }
      } finally {
        clearInterval(keepAlive);
      }
    }
    const generator = iterate();
    return {
      [Symbol.asyncIterator]: () => generator,
      stop: async () => {
        stopped = true;
        clearInterval(keepAlive);
        await current?.close();
        for (const held of unread.splice(0)) held.message.nak();
      },
    };
  }

  /** Messages in the stream not yet delivered to the ingesters, and delivered but not yet acked. */
  async lag(): Promise<{ pending: number; ackPending: number }> {
    const jsm = await jetstreamManager(this.nc);
    const info = await jsm.consumers.info(this.names.stream, this.durable);
    return { pending: info.num_pending, ackPending: info.num_ack_pending };
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
