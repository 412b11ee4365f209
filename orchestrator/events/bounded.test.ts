// Bounded streams against real nats-servers: a publisher facing a full store or an unreachable
// server fails with a reason instead of hanging; stream and bucket limits are created and updated in
// place; connecting to nothing reports every attempt and gives up at its deadline.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { ServiceUnavailableError } from '../../common/errors.ts';
import { ARTIFACT_BUCKET, ensureArtifactBucket, NatsArtifactStore } from './artifacts.ts';
import { type ConnectAttempt, connectNats, ensureStreams, NatsEventSink, resolveNames } from './nats.ts';
import { EventPublisher, PublishFailedError } from './publisher.ts';
import { deleteStreams, TEST_NATS_URL, uniqueNames } from './test-support.ts';
import { smallStoreServer } from './testing/small-store-server.ts';

const event = (i: number, size: number) => ({
  subject: `t.v1.s.trial.metrics`,
  data: new Uint8Array(size).fill(97),
  msgId: `trial:1:${i}`,
});

describe('a full JetStream store', () => {
  let server: Awaited<ReturnType<typeof smallStoreServer>>;
  let nc: NatsConnection;
  before(async () => {
    server = await smallStoreServer(4 * 1024 * 1024);
    nc = await connectNats({ servers: server.url });
  });
  after(async () => {
    await nc?.close();
    await server?.dispose();
  });

  it('makes the publisher fail with the reason once nothing was stored for its deadline, never hang', async () => {
    const names = { stream: 'FULL', prefix: 't' };
    // Both streams reserve their max_bytes in the store: together they must fit.
    await ensureStreams(nc, { ...names, maxBytes: 256 * 1024, dlqMaxBytes: 256 * 1024 });
    const retries: unknown[] = [];
    const publisher = new EventPublisher(new NatsEventSink(nc, 1000), {
      giveUpAfterMs: 1500,
      maxBackoffMs: 200,
      onRetry: (error) => retries.push(error),
    });
    // 1 MiB of events into a stream that holds 256 KiB, and nobody consumes them.
    let refused: unknown = null;
    try {
      for (let i = 0; i < 256; i++) await publisher.publish(event(i, 4096));
      await publisher.flush();
    } catch (error) {
      refused = error;
    }
    assert.ok(refused instanceof PublishFailedError, `failed with ${String(refused)}`);
    assert.ok(refused instanceof ServiceUnavailableError, 'the CLI exits 69 on it');
    assert.match(refused.message, /not stored for 2 s.*JetStream store is full .*maximum bytes/i);
    assert.ok(retries.length > 0);
    await assert.rejects(publisher.flush(), PublishFailedError, 'flush keeps failing, at once');
    const info = await (await jetstreamManager(nc)).streams.info('FULL');
    assert.ok(info.state.bytes <= 256 * 1024, `the stream kept its bound: ${info.state.bytes} bytes`);
    assert.ok(info.state.messages < 256, 'and refused the rest');
  });
});

describe('stream and bucket limits on the shared server', () => {
  let nc: NatsConnection;
  const names = uniqueNames('limits');
  before(async () => {
    nc = await connectNats({ servers: TEST_NATS_URL });
  });
  after(async () => {
    await deleteStreams(nc, names).catch(() => {});
    await nc?.close();
  });

  it('creates work-queue events and limited dead letters, and updates a changed limit in place', async () => {
    const jsm = await jetstreamManager(nc);
    const r = resolveNames(names);
    await ensureStreams(nc, { ...names, maxBytes: 10_000_000, dlqMaxAgeMs: 3600_000 });
    const events = await jsm.streams.info(r.stream);
    assert.equal(events.config.retention, RetentionPolicy.Workqueue);
    assert.equal(events.config.max_bytes, 10_000_000);
    assert.equal(events.config.discard, 'new');
    const dlq = await jsm.streams.info(r.dlqStream);
    assert.equal(dlq.config.retention, RetentionPolicy.Limits);
    assert.equal(dlq.config.max_age, 3600_000 * 1e6);
    await ensureStreams(nc, { ...names, maxBytes: 20_000_000, dlqMaxAgeMs: 7200_000 });
    assert.equal((await jsm.streams.info(r.stream)).config.max_bytes, 20_000_000);
    assert.equal((await jsm.streams.info(r.dlqStream)).config.max_age, 7200_000 * 1e6);
    assert.equal((await jsm.streams.info(r.stream)).state.first_seq, events.state.first_seq, 'not recreated');
  });

  it('refuses, with the way out, an events stream of limits retention that the server cannot convert', async () => {
    const old = uniqueNames('old');
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: old.stream,
      subjects: [`${old.prefix}.v1.>`],
      storage: StorageType.File,
    });
    try {
      await assert.rejects(ensureStreams(nc, old), /retention 'limits'.*needs 'workqueue'.*nats stream rm/);
    } finally {
      await deleteStreams(nc, old);
    }
  });

  it('gives the artifact bucket a TTL, and the operator’s TTL replaces an existing one', async () => {
    const bucket = `t-${names.prefix}`;
    const jsm = await jetstreamManager(nc);
    const store = new NatsArtifactStore(nc, bucket, { ttlMs: 3600_000 });
    try {
      await store.put('s/t/1/dense-final.npz', new Uint8Array([1, 2, 3]));
      assert.equal((await jsm.streams.info(`OBJ_${bucket}`)).config.max_age, 3600_000 * 1e6);
      await ensureArtifactBucket(nc, bucket, { ttlMs: 2 * 24 * 3600_000, maxBytes: 50_000_000 });
      const info = await jsm.streams.info(`OBJ_${bucket}`);
      assert.equal(info.config.max_age, 2 * 24 * 3600_000 * 1e6);
      assert.equal(info.config.max_bytes, 50_000_000);
      assert.deepEqual([...((await store.get('s/t/1/dense-final.npz')) ?? [])], [1, 2, 3], 'objects kept');
    } finally {
      await store.destroy();
    }
    assert.notEqual(bucket, ARTIFACT_BUCKET);
  });
});

describe('an unreachable server', () => {
  it('is retried with every attempt reported, then given up at the deadline', async () => {
    const attempts: ConnectAttempt[] = [];
    const started = Date.now();
    await assert.rejects(
      connectNats({ servers: 'nats://127.0.0.1:1', deadlineMs: 1500, onAttempt: (a) => attempts.push(a) }),
      (error: Error) =>
        error instanceof ServiceUnavailableError &&
        /cannot reach NATS at nats:\/\/127.0.0.1:1/.test(error.message),
    );
    assert.ok(attempts.length >= 2, `${attempts.length} attempts`);
    assert.deepEqual(
      attempts.map((a) => a.attempt),
      attempts.map((_, i) => i + 1),
    );
    assert.ok(attempts.every((a) => a.error.length > 0 && a.servers === 'nats://127.0.0.1:1'));
    assert.ok(Date.now() - started < 60_000, 'gave up instead of waiting for ever');
  });
});
