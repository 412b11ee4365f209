// Per-Job credentials against a real nats-server in operator mode (its own port, store and trust
// chain): what a worker's and the ingester's users may do, and what the server refuses.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { decode, type User } from '@nats-io/jwt';
import { Objm } from '@nats-io/obj';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { InputError } from '../../common/errors.ts';
import { waitFor } from '../../test/support/wait.ts';
import { ARTIFACT_BUCKET, artifactName, NatsArtifactStore } from './artifacts.ts';
import {
  AccountSigner,
  createTrustChain,
  credsFileOptions,
  ingesterPermissions,
  type MintedUser,
  workerInboxPrefix,
  workerPermissions,
} from './credentials.ts';
import { ensureStreams, NatsEventSink, NatsEventSource } from './nats.ts';
import { bucketStream, objectMetaSubject } from './object-reader.ts';
import { encodeEvent, messageId, subjectFor, type TrialEvent } from './protocol.ts';
import { OperatorNatsServer } from './testing/operator-server.ts';
import { orchestratedEnv, startOrchestratedRun } from './worker-pipeline.ts';

const enc = new TextEncoder();
const inAMinute = () => new Date(Date.now() + 60_000);
const trialA = { sweepId: 's1', trialId: 'trialA', attempt: 1 };
const trialB = { sweepId: 's1', trialId: 'trialB', attempt: 1 };

function event(trial: typeof trialA, seq: number): TrialEvent {
  return { v: 1, kind: 'heartbeat', ...trial, seq, time: new Date().toISOString() };
}

const outbound = (e: TrialEvent) => ({ subject: subjectFor(e), data: encodeEvent(e), msgId: messageId(e) });

/** A client that does not reconnect, so an expired or refused user shows as closed. */
function connectAs(
  server: OperatorNatsServer,
  user: MintedUser,
  inboxPrefix?: string,
): Promise<NatsConnection> {
  return connect({
    servers: server.url,
    authenticator: credsAuthenticator(enc.encode(user.creds)),
    inboxPrefix,
    maxReconnectAttempts: 0,
    timeout: 5000,
  });
}

/** The server's errors on this connection (permission violations, expiry), as text. */
function serverErrors(nc: NatsConnection): string[] {
  const seen: string[] = [];
  void (async () => {
    for await (const status of nc.status()) if (status.type === 'error') seen.push(String(status.error));
  })();
  return seen;
}

describe('per-Job NATS credentials (operator mode)', () => {
  let server: OperatorNatsServer;
  let signer: AccountSigner;
  let admin: NatsConnection;
  let jsm: JetStreamManager;
  const open: NatsConnection[] = [];
  const messages = async (stream = 'ESWEEP') => (await jsm.streams.info(stream)).state.messages;

  const worker = async (trial = trialA, expiresAt = inAMinute()) => {
    const user = await signer.mint(`worker-${trial.trialId}`, workerPermissions(trial), expiresAt);
    const nc = await connectAs(server, user, workerInboxPrefix(trial.trialId, trial.attempt));
    open.push(nc);
    return { nc, user, errors: serverErrors(nc) };
  };

  before(async () => {
    server = await OperatorNatsServer.start();
    signer = server.signer();
    // The account's unrestricted user sets up what workers may not create (streams, bucket).
    admin = await connectAs(server, await signer.mint('setup', {}, inAMinute()));
    await ensureStreams(admin);
    await new Objm(admin).create(ARTIFACT_BUCKET);
    jsm = await jetstreamManager(admin);
  });

  after(async () => {
    for (const nc of [...open, admin]) await nc?.close().catch(() => {});
    await server?.dispose();
  });

  it('mints a user of the account, signed by the signing key, expiring when asked', async () => {
    const expiresAt = new Date(Date.now() + 3_600_000);
    const user = await signer.mint('w', workerPermissions(trialA), expiresAt);
    const claims = decode<User>(user.jwt);
    assert.equal(claims.iss, server.chain.signingKey.publicKey);
    assert.equal(claims.nats.issuer_account, server.chain.account.publicKey);
    assert.equal(claims.exp, Math.floor(expiresAt.getTime() / 1000));
    assert.ok(claims.nats.pub?.allow?.includes('esweep.v1.s1.trialA.*'));
    assert.ok(!claims.nats.pub?.allow?.some((s) => s.includes('trialB') || s.includes('STREAM.DELETE')));
    assert.match(user.creds, /BEGIN NATS USER JWT[\s\S]*BEGIN USER NKEY SEED/);
  });

  it("refuses the account's identity key as the controller's signing key", () => {
    assert.throws(
      () => new AccountSigner(server.chain.account.seed, server.chain.account.publicKey),
      /identity key/,
    );
    assert.throws(() => new AccountSigner(server.chain.operator.seed, server.chain.account.publicKey), /SA/);
  });

  it("lets a worker publish its own trial's events and store and read artifacts", async () => {
    const { nc, errors } = await worker();
    const before = await messages();
    const sink = new NatsEventSink(nc, 3000);
    await sink.send(outbound(event(trialA, 0)));
    await sink.send(outbound(event(trialA, 1)));
    assert.equal(await messages(), before + 2);

    const store = new NatsArtifactStore(nc);
    const name = artifactName(trialA.sweepId, trialA.trialId, trialA.attempt, 'dense-final.npz');
    const data = new Uint8Array(300_000).map((_, i) => i % 251);
    await store.put(name, data);
    assert.deepEqual(await store.get(name), data);
    assert.deepEqual(
      (await store.list(`${trialA.sweepId}/${trialA.trialId}/`)).map((i) => i.name),
      [name],
    );
    assert.deepEqual(errors, []);
  });

  it("lets a magnitude trial read its dense trial's weights, and refuses writing them", async () => {
    const dense = { sweepId: 's1', trialId: 'dense', attempt: 2 };
    const name = artifactName(dense.sweepId, dense.trialId, dense.attempt, 'dense-final.npz');
    const weights = enc.encode('dense weights');
    await new NatsArtifactStore((await worker(dense)).nc).put(name, weights);

    const { nc, errors } = await worker(trialB);
    const store = new NatsArtifactStore(nc);
    assert.deepEqual(await store.get(name), weights);
    await assert.rejects(store.put(name, enc.encode('forged weights')), /permission/i);
    assert.deepEqual(await store.get(name), weights, 'the dense weights are unchanged');
    await waitFor('the server to report the violation', () =>
      errors.some((e) => e.includes(objectMetaSubject(ARTIFACT_BUCKET, name))),
    );
    // Chunks of the refused put may have landed (their subjects are not per name); no object did.
    assert.deepEqual(
      (await store.list(`${dense.sweepId}/${dense.trialId}/`)).map((i) => i.name),
      [name],
    );
  });

  it("refuses a worker another trial's event, stream and consumer management, and keeps nothing", async () => {
    const { nc, errors } = await worker();
    const before = await messages();
    const sink = new NatsEventSink(nc, 3000);
    await assert.rejects(sink.send(outbound(event(trialB, 0))), /permission/i);

    const workerJsm = await jetstreamManager(nc, { checkAPI: false });
    await assert.rejects(workerJsm.streams.delete('ESWEEP'), /permission/i);
    await assert.rejects(workerJsm.streams.purge('ESWEEP'), /permission/i);
    await assert.rejects(workerJsm.consumers.add('ESWEEP', { durable_name: 'thief' }), /permission/i);
    // A push consumer on the bucket could deliver forged bytes to any subject: no consumers at all.
    await assert.rejects(
      workerJsm.consumers.add(bucketStream(ARTIFACT_BUCKET), {
        deliver_subject: subjectFor(event(trialB, 0)),
      }),
      /permission/i,
    );
    await assert.rejects(
      nc.request('$JS.API.STREAM.DELETE.ESWEEP', undefined, { timeout: 3000 }),
      /permission/i,
    );

    await waitFor('the server to report each violation', () =>
      [
        subjectFor(event(trialB, 0)),
        '$JS.API.STREAM.DELETE.ESWEEP',
        '$JS.API.STREAM.PURGE.ESWEEP',
        '$JS.API.CONSUMER',
      ].every((subject) => errors.some((e) => e.includes(subject))),
    );
    assert.equal(await messages(), before, 'nothing was stored');
    assert.ok(await jsm.streams.info('ESWEEP'), 'the stream is still there');
    assert.deepEqual((await jsm.consumers.list('ESWEEP').next()).map((c) => c.name).includes('thief'), false);
  });

  it('refuses a worker once its credentials expire', async () => {
    const expiresAt = new Date(Math.ceil(Date.now() / 1000) * 1000 + 2000);
    const { nc, user, errors } = await worker(trialA, expiresAt);
    const before = await messages();
    await new NatsEventSink(nc, 3000).send(outbound(event(trialA, 10)));
    assert.equal(await messages(), before + 1, 'valid until it expires');

    // The server disconnects the user when its JWT expires…
    await waitFor('the server to end the expired connection', () => nc.isClosed(), 15_000);
    assert.ok(
      errors.some((e) => /expired/i.test(e)),
      `expected an expiry error, got ${errors.join('; ')}`,
    );
    // …and refuses it from then on (the server compares whole seconds: past the expiry's second).
    await waitFor('the second after the expiry', () => Date.now() >= expiresAt.getTime() + 1000, 5000);
    await assert.rejects(connectAs(server, user, workerInboxPrefix(trialA.trialId, 1)), /expired|authoriz/i);
    assert.equal(await messages(), before + 1, 'nothing stored after expiry');
  });

  it('lets the ingester consume and ack, and refuses it publishing events or deleting the stream', async () => {
    const { nc: workerNc } = await worker();
    await new NatsEventSink(workerNc, 3000).send(outbound(event(trialA, 20)));
    const lastSeq = (await jsm.streams.info('ESWEEP')).state.last_seq;
    const user = await signer.mint('ingester', ingesterPermissions(), inAMinute());
    const credsFile = join(server.dir, 'ingester.creds');
    writeFileSync(credsFile, user.creds, { mode: 0o600 });
    const nc = await connect({
      servers: server.url,
      maxReconnectAttempts: 0,
      ...credsFileOptions(credsFile),
    });
    open.push(nc);
    // It keeps the bucket in shape (an existing one is opened as is).
    await new Objm(nc).create(ARTIFACT_BUCKET);
    const errors = serverErrors(nc);
    const subscription = await new NatsEventSource(nc).subscribe();
    for await (const message of subscription) {
      await message.ack();
      if (message.source === `ESWEEP:${lastSeq}`) break;
    }
    await subscription.stop();
    await waitFor(
      'the acks to land',
      async () => (await jsm.consumers.info('ESWEEP', 'ingester')).ack_floor.stream_seq === lastSeq,
    );

    const before = await messages();
    await assert.rejects(new NatsEventSink(nc, 3000).send(outbound(event(trialA, 21))), /permission/i);
    const ingesterJsm = await jetstreamManager(nc, { checkAPI: false });
    await assert.rejects(ingesterJsm.streams.delete('ESWEEP'), /permission/i);
    await waitFor('the server to report the violations', () => errors.length >= 2);
    assert.equal(await messages(), before, 'nothing was stored');
  });

  it("runs a pruned trial's worker pipeline on its own credentials: dense weights in, events out", async () => {
    const dense = { sweepId: 's2', trialId: 'dense2', attempt: 1 };
    const pruned = { sweepId: 's2', trialId: 'pruned2', attempt: 3 };
    const files = { initial: enc.encode('initial weights'), final: enc.encode('final weights') };
    const denseStore = new NatsArtifactStore((await worker(dense)).nc);
    for (const [role, data] of Object.entries(files)) {
      await denseStore.put(artifactName(dense.sweepId, dense.trialId, 1, `dense-${role}.npz`), data);
    }
    const user = await signer.mint('pruned', workerPermissions(pruned), inAMinute());
    const credsFile = join(server.dir, 'pruned.creds');
    writeFileSync(credsFile, user.creds, { mode: 0o600 });
    const env = orchestratedEnv({
      ESWEEP_SWEEP_ID: pruned.sweepId,
      ESWEEP_TRIAL_ID: pruned.trialId,
      ESWEEP_ATTEMPT: String(pruned.attempt),
      ESWEEP_DENSE_TRIAL_ID: dense.trialId,
      ESWEEP_EVENTS: 'nats',
      NATS_URL: server.url,
      NATS_CREDS: credsFile,
    });
    assert.ok(env);
    const before = await messages();
    const run = await startOrchestratedRun(
      { arch: 'lenet300100', pruner: 'magnitude/global', type: 'direct', compression: 10, seed: 4 },
      env,
    );
    try {
      assert.ok(run.denseFrom);
      const fetched = readFileSync(join(run.denseFrom, 'lenet300100-mnist-seed4-final.npz'));
      assert.deepEqual(new Uint8Array(fetched), files.final);
      await run.reporter.failed({ error: 'stopped by the test', retryable: true });
    } finally {
      await run.close();
    }
    assert.equal(await messages(), before + 1, "the pruned trial's failed event is stored");
    const last = await jsm.streams.getMessage('ESWEEP', { last_by_subj: 'esweep.v1.s2.pruned2.failed' });
    assert.equal(last?.json<{ attempt: number }>().attempt, 3);
  });

  it('reports an unreadable credentials file as bad input, and needs none without one', () => {
    assert.deepEqual(credsFileOptions(undefined), {});
    assert.throws(
      () => credsFileOptions(join(server.dir, 'missing.creds')),
      (e: unknown) => e instanceof InputError && /missing\.creds/.test(e.message),
    );
  });

  it('creates trust chains whose users another chain cannot forge', async () => {
    const other = await createTrustChain();
    const forger = new AccountSigner(other.signingKey.seed, server.chain.account.publicKey);
    const forged = await forger.mint('forged', {}, inAMinute());
    await assert.rejects(connectAs(server, forged), /authoriz/i);
  });
});
