// The two sides of an event transport. Workers hand messages to an EventSink (through the windowed
// EventPublisher); the ingester reads an EventSource. NATS JetStream (nats.ts) and the in-process
// transport (memory.ts) implement both, so the ingester and the publisher are the same code either way.

export interface OutboundMessage {
  subject: string;
  data: Uint8Array;
  /** `<trialId>:<attempt>:<seq>` (Nats-Msg-Id): a resend with the same id is stored once. */
  msgId: string;
}

export interface EventSink {
  /**
   * Sends one message; resolves once the transport has durably accepted it (a JetStream ack) and
   * rejects when it could not (the publisher retries with the same msgId).
   */
  send(message: OutboundMessage): Promise<void>;
}

export interface InboundMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  /** Where the message sits in the stream (e.g. `ESWEEP:1234`): the same on every redelivery. */
  readonly source: string;
  /** 1 on the first delivery. */
  readonly deliveryCount: number;
  /** Done with it: never deliver again. Only after its effects are committed. */
  ack(): void;
  /** Deliver it again (after `delayMs`). */
  nak(delayMs?: number): void;
  /** Still working on it: postpone redelivery (JetStream's ack_wait). */
  working(): void;
}

export interface EventSubscription extends AsyncIterable<InboundMessage> {
  /** Stops delivering; unacked messages are redelivered to the next subscriber. */
  stop(): Promise<void>;
}

export interface DeadLetter {
  subject: string;
  data: Uint8Array;
  source: string;
  reason: string;
  detail: string;
}

export interface EventSource {
  /** A durable subscription: what was not acked before is delivered again. */
  subscribe(): Promise<EventSubscription>;
  /** Parks a message the ingester cannot use (resolves once it is stored). */
  deadLetter(letter: DeadLetter): Promise<void>;
}
