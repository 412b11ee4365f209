// Shared by the ingester's unit tests: a backlog of events waiting on the in-memory transport.
import type { MemoryTransport } from '../events/memory.ts';
import { encodeEvent, messageId, subjectFor, type TrialEvent } from '../events/protocol.ts';

/** Queues `count` heartbeats of one attempt (seq 0…count−1), as a worker would have published them. */
export async function queueHeartbeats(transport: MemoryTransport, count: number): Promise<void> {
  for (let seq = 0; seq < count; seq++) {
    const event: TrialEvent = {
      v: 1,
      kind: 'heartbeat',
      sweepId: 'sweep',
      trialId: 'trial',
      attempt: 1,
      seq,
      time: new Date().toISOString(),
    };
    await transport.send({ subject: subjectFor(event), data: encodeEvent(event), msgId: messageId(event) });
  }
}
