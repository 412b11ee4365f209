// Protocol validation, the windowed publisher against a flaky sink, the in-process transport and the
// artifact stores (the NATS one against the local server, in a bucket of its own).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { artifactName, FileArtifactStore, NatsArtifactStore } from './artifacts.ts';
import { MemoryTransport } from './memory.ts';
import { connectNats } from './nats.ts';
import { decodeEvent, encodeEvent, messageId, subjectFor, type TrialEvent } from './protocol.ts';
import { EventPublisher, TrialReporter } from './publisher.ts';
import { TEST_NATS_URL } from './test-support.ts';
import type { EventSink, OutboundMessage } from './transport.ts';

const enc = new TextEncoder();
const base = { v: 1, sweepId: 's1', trialId: 't1', attempt: 1, seq: 3, time: '2026-01-01T00:00:00.000Z' };

describe('protocol', () => {
  it('accepts every kind and checks the subject against the body', () => {
    const events = [
      { ...base, kind: 'started', host: 'h' },
      { ...base, kind: 'progress', step: 5, totalSteps: 10 },
      { ...base, kind: 'metrics', points: [{ step: 1, name: 'loss', value: 0.5 }] },
      { ...base, kind: 'sparsity', layers: [], overall: { directSparsity: 0.5, effectiveSparsity: 0.6 } },
      {
        ...base,
        kind: 'completed',
        accuracy: 0.9,
        directSparsity: 0.9,
        effectiveSparsity: 1,
        effectiveCompression: null,
      },
      { ...base, kind: 'failed', error: 'x', retryable: false },
      { ...base, kind: 'heartbeat' },
    ] as TrialEvent[];
    for (const e of events) {
      const decoded = decodeEvent(subjectFor(e), encodeEvent(e));
      assert.ok(decoded.ok, `${e.kind}: ${JSON.stringify(decoded)}`);
      assert.equal(subjectFor(e, 'p'), `p.v1.s1.t1.${e.kind}`);
    }
    assert.equal(messageId(base), 't1:1:3');
  });

  it('names what is wrong with a bad message', () => {
    const subject = 'esweep.v1.s1.t1.metrics';
    const cases: [string, string, string, RegExp][] = [
      [subject, '{not json', 'malformed', /not JSON/],
      [subject, '[1]', 'malformed', /not a JSON object/],
      [subject, JSON.stringify({ ...base, kind: 'exploded' }), 'unknown-kind', /exploded/],
      [
        subject,
        JSON.stringify({ ...base, kind: 'metrics', points: [{ step: -1, name: 'x', value: 1 }] }),
        'malformed',
        /points\.0\.step/,
      ],
      [subject, JSON.stringify({ ...base, kind: 'metrics', points: [] }), 'malformed', /points/],
      [
        subject,
        JSON.stringify({ ...base, v: 2, kind: 'metrics', points: [{ step: 1, name: 'x', value: 1 }] }),
        'malformed',
        /^v:/,
      ],
      [subject, JSON.stringify({ ...base, trialId: 'a.b', kind: 'heartbeat' }), 'malformed', /trialId/],
      [subject, JSON.stringify({ ...base, kind: 'heartbeat' }), 'subject-mismatch', /does not match/],
      [
        'esweep.v1.s1.t1.heartbeat',
        JSON.stringify({ ...base, kind: 'failed', error: 'a\u0000b', retryable: true }),
        'invalid-text',
        /NUL/,
      ],
    ];
    for (const [subj, body, reason, detail] of cases) {
      const decoded = decodeEvent(subj, enc.encode(body));
      assert.equal(decoded.ok, false, body);
      if (!decoded.ok) {
        assert.equal(decoded.reason, reason, body);
        assert.match(decoded.detail, detail, body);
      }
    }
    const invalidUtf8 = decodeEvent(subject, new Uint8Array([0xff, 0xfe]));
    assert.equal(invalidUtf8.ok, false);
  });
});

/** A sink that fails while `down`, acks after a delay, and records concurrency. */
class FlakySink implements EventSink {
  down = false;
  inFlight = 0;
  maxInFlight = 0;
  readonly stored = new Map<string, number>();
  calls = 0;
  async send(message: OutboundMessage): Promise<void> {
    this.calls++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await sleep(1);
      // Sometimes the message lands but the ack is lost: the retry must not duplicate it (msgId).
      if (this.down) {
        if (this.calls % 3 === 0 && !this.stored.has(message.msgId)) this.stored.set(message.msgId, 1);
        throw new Error('no responders');
      }
      // Like JetStream's dedupe window: a msgId stored before is acked, not stored again.
      this.stored.set(
        message.msgId,
        (this.stored.get(message.msgId) ?? 0) + (this.stored.has(message.msgId) ? 0 : 1),
      );
    } finally {
      this.inFlight--;
    }
  }
}

describe('EventPublisher', () => {
  it('keeps a bounded window, retries through an outage and loses nothing', async () => {
    const sink = new FlakySink();
    const retries: unknown[] = [];
    const publisher = new EventPublisher(sink, {
      window: 16,
      maxMessages: 64,
      initialBackoffMs: 5,
      maxBackoffMs: 40,
      onRetry: (e) => retries.push(e),
    });
    let maxHeld = 0;
    const n = 2000;
    for (let i = 0; i < n; i++) {
      if (i === 500) {
        sink.down = true;
        setTimeout(() => (sink.down = false), 300);
      }
      await publisher.publish({ subject: 's', data: enc.encode(`m${i}`), msgId: `id${i}` });
      maxHeld = Math.max(maxHeld, publisher.stats.held);
    }
    await publisher.close();
    assert.equal(sink.stored.size, n);
    assert.ok(
      [...sink.stored.values()].every((count) => count === 1),
      'each message stored once',
    );
    assert.ok(sink.maxInFlight <= 16, `max in flight ${sink.maxInFlight}`);
    assert.ok(maxHeld <= 64, `held ${maxHeld}`);
    assert.ok(retries.length > 0, 'the outage was seen');
    assert.equal(publisher.stats.acked, n);
    await assert.rejects(
      publisher.publish({ subject: 's', data: enc.encode('late'), msgId: 'late' }),
      /closed/,
    );
  });

  it('bounds memory by bytes too', async () => {
    const sink = new FlakySink();
    sink.down = true;
    const publisher = new EventPublisher(sink, {
      window: 4,
      maxBytes: 10_000,
      initialBackoffMs: 5,
      maxBackoffMs: 10,
    });
    const big = new Uint8Array(3000);
    let queued = 0;
    const all = (async () => {
      for (let i = 0; i < 10; i++) {
        await publisher.publish({ subject: 's', data: big, msgId: `b${i}` });
        queued++;
      }
    })();
    await sleep(100);
    assert.ok(queued <= 4, `queued ${queued} while the sink is down`);
    assert.ok(publisher.stats.heldBytes <= 10_000, 'publisher.stats.heldBytes <= 10_000');
    sink.down = false;
    await all;
    await publisher.flush();
    assert.equal(sink.stored.size, 10);
  });

  it('TrialReporter numbers events and chunks curve points', async () => {
    const transport = new MemoryTransport();
    const publisher = new EventPublisher(transport);
    const reporter = new TrialReporter(publisher, {
      sweepId: 's',
      trialId: 't',
      attempt: 2,
      maxPointsPerEvent: 10,
    });
    await reporter.started({ host: 'h' });
    for (let i = 0; i < 25; i++) await reporter.metric(i, 'loss', 1 / (i + 1));
    await reporter.completed({ accuracy: 0.9, directSparsity: 0.9, effectiveSparsity: 1 });
    await reporter.flush();
    const subscription = await transport.subscribe();
    const got: TrialEvent[] = [];
    for await (const m of subscription) {
      const decoded = decodeEvent(m.subject, m.data);
      assert.ok(decoded.ok, 'decodes');
      got.push(decoded.event);
      m.ack();
      if (got.length === 5) break;
    }
    assert.deepEqual(
      got.map((e) => [e.kind, e.seq]),
      [
        ['started', 0],
        ['metrics', 1],
        ['metrics', 2],
        ['metrics', 3],
        ['completed', 4],
      ],
    );
    assert.deepEqual(
      got.map((e) => (e.kind === 'metrics' ? e.points.length : 0)),
      [0, 10, 10, 5, 0],
    );
    const completed = got[4] as Extract<TrialEvent, { kind: 'completed' }>;
    assert.equal(completed.effectiveCompression, null);
    assert.ok(Math.abs(completed.directCompression! - 10) < 1e-9, 'direct compression derived');
    assert.equal(transport.pending, 0);
  });

  it('TrialReporter stamps its incarnation on every event and in the message id; none by default', async () => {
    const sent: OutboundMessage[] = [];
    const sink = { send: async (m: OutboundMessage) => void sent.push(m) };
    const publisher = new EventPublisher(sink);
    const header = { sweepId: 's', trialId: 't', attempt: 2 };
    await new TrialReporter(publisher, { ...header, incarnation: 'pod-b' }).started();
    await new TrialReporter(publisher, header).started();
    await publisher.flush();
    const decoded = sent.map((m) => decodeEvent(m.subject, m.data));
    assert.deepEqual(
      decoded.map((d) => (d.ok ? [d.event.incarnation, d.event.seq] : d.reason)),
      [
        ['pod-b', 0],
        [undefined, 0],
      ],
    );
    assert.deepEqual(
      sent.map((m) => m.msgId),
      ['t:2:pod-b:0', 't:2:0'],
    );
    assert.equal('incarnation' in JSON.parse(new TextDecoder().decode(sent[1]!.data)), false);
  });
});

describe('MemoryTransport', () => {
  it('dedupes msgIds, redelivers what was not acked, bounds what it holds', async () => {
    const t = new MemoryTransport({ maxPending: 3 });
    await t.send({ subject: 'a', data: enc.encode('1'), msgId: 'x' });
    await t.send({ subject: 'a', data: enc.encode('1 again'), msgId: 'x' });
    await t.send({ subject: 'a', data: enc.encode('2'), msgId: 'y' });
    await t.send({ subject: 'a', data: enc.encode('3'), msgId: 'z' });
    let fourthSent = false;
    const fourth = t
      .send({ subject: 'a', data: enc.encode('4'), msgId: 'w' })
      .then(() => (fourthSent = true));
    await sleep(10);
    assert.equal(fourthSent, false);
    const sub = await t.subscribe();
    const it1 = sub[Symbol.asyncIterator]();
    const m1 = (await it1.next()).value!;
    assert.equal(new TextDecoder().decode(m1.data), '1');
    m1.ack();
    await fourth;
    const m2 = (await it1.next()).value!;
    m2.nak();
    const m3 = (await it1.next()).value!;
    assert.equal(new TextDecoder().decode(m3.data), '3');
    await sub.stop();
    // m3 was never acked: a new subscriber gets it again, and the nak'd one
    const sub2 = await t.subscribe();
    const it2 = sub2[Symbol.asyncIterator]();
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const m = (await it2.next()).value!;
      seen.push(new TextDecoder().decode(m.data));
      m.ack();
    }
    assert.deepEqual(seen.sort(), ['2', '3', '4']);
    assert.equal(t.pending, 0);
    await t.close();
  });

  it('whenEmpty resolves on the ack that leaves nothing pending, not while a nakked message waits', async () => {
    const t = new MemoryTransport();
    await t.whenEmpty();
    await t.send({ subject: 'a', data: enc.encode('1'), msgId: 'x' });
    let empty = false;
    const whenEmpty = t.whenEmpty().then(() => (empty = true));
    const it1 = (await t.subscribe())[Symbol.asyncIterator]();
    (await it1.next()).value!.nak(30);
    assert.equal(t.pending, 1, 'a message nakked for later is still pending');
    // (The nak's timer does not hold the process open; the sleep does.)
    const [next] = await Promise.all([it1.next(), sleep(50)]);
    const redelivered = next.value!;
    assert.equal(redelivered.deliveryCount, 2);
    assert.equal(empty, false);
    redelivered.ack();
    await whenEmpty;
    assert.equal(t.pending, 0);
    await t.close();
  });
});

describe('artifact stores', () => {
  const payload = new Uint8Array(300_000).map((_, i) => i % 251);
  const name = artifactName('sweep1', 'trial1', 1, 'masks.npz');

  it('FileArtifactStore round-trips', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'esweep-artifacts-'));
    try {
      const store = new FileArtifactStore(dir);
      const info = await store.put(name, payload);
      assert.equal(info.size, payload.length);
      assert.deepEqual(await store.get(name), payload);
      assert.deepEqual(await store.info(name), info);
      assert.deepEqual(
        (await store.list('sweep1/')).map((i) => i.name),
        [name],
      );
      await assert.rejects(store.put('../escape', payload), /invalid artifact name/);
      await store.delete(name);
      assert.equal(await store.get(name), null);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('NatsArtifactStore round-trips through a JetStream object store bucket', async () => {
    const nc = await connectNats({ servers: TEST_NATS_URL });
    const store = new NatsArtifactStore(nc, `esweep-artifacts-test-${randomBytes(4).toString('hex')}`);
    try {
      const info = await store.put(name, payload);
      assert.equal(info.size, payload.length);
      assert.deepEqual(await store.get(name), payload);
      assert.equal((await store.info(name))?.digest, info.digest);
      assert.deepEqual(
        (await store.list('sweep1/')).map((i) => i.name),
        [name],
      );
      await store.delete(name);
      assert.equal(await store.info(name), null);
      assert.equal(await store.get('missing'), null);
    } finally {
      await store.destroy().catch(() => {});
      await nc.close();
    }
  });
});
