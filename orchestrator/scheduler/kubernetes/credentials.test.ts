import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ApiException, BatchV1Api, CoreV1Api, type V1Job, type V1Secret } from '@kubernetes/client-node';
import { decode, parseCreds, type User } from '@nats-io/jwt';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Secret } from 'kubernetes-models/v1/Secret';
import { InputError } from '../../../common/errors.ts';
import { startFakeCluster, waitFor } from '../../../test/fake-kube/support.ts';
import { createTrustChain } from '../../events/credentials.ts';
import type { RunRequest } from '../backend.ts';
import { runName } from '../names.ts';
import { KubernetesBackend, kubeConfigFor } from './backend.ts';
import { parseKubernetesConfig } from './config.ts';
import {
  CREDS_KEY,
  credentialsSecretManifest,
  credentialsSecretName,
  JobCredentials,
  mountCredentials,
  natsCredentialsSchema,
} from './credentials.ts';
import { jobManifest, plainManifest } from './manifest.ts';

const request: RunRequest = {
  sweepId: 'cs1',
  sweepName: 'paper',
  trialId: 'ct9',
  trialKey: '0123456789abcdef',
  attempt: 2,
  spec: { arch: 'lenet300', dataset: 'mnist', pruner: 'magnitude', type: 'direct', compression: 10, seed: 1 },
  dependsOnTrialId: 'ct1',
  resources: { gpu: 0 },
};

const dir = mkdtempSync(join(tmpdir(), 'esweep-k8s-creds-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function setup() {
  const chain = await createTrustChain();
  const keyFile = join(dir, `signing-${chain.signingKey.publicKey.slice(0, 8)}.nk`);
  writeFileSync(keyFile, `${chain.signingKey.seed}\n`);
  const credentials = natsCredentialsSchema.parse({
    accountSigningKeyFile: keyFile,
    accountPublicKey: chain.account.publicKey,
  });
  const config = parseKubernetesConfig({
    image: 'worker:1',
    namespace: 'research',
    activeDeadlineSeconds: 7200,
  });
  const job = jobManifest(request, config);
  const created: V1Job = { ...plainManifest(job), metadata: { ...job.metadata, uid: 'job-uid-1' } };
  return { chain, credentials, config, job, created };
}

describe('per-Job NATS credentials on Kubernetes', () => {
  test("a Job's Secret is owned by the Job and holds its .creds file", async () => {
    const { created } = await setup();
    const secret = credentialsSecretManifest(created, 'CREDS');
    new Secret(secret as ConstructorParameters<typeof Secret>[0]).validate();
    assert.equal(secret.metadata?.name, `${created.metadata?.name}-nats`);
    assert.equal(secret.metadata?.namespace, 'research');
    assert.deepEqual(secret.metadata?.ownerReferences, [
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        name: created.metadata?.name,
        uid: 'job-uid-1',
        controller: true,
      },
    ]);
    assert.equal(Buffer.from(secret.data?.[CREDS_KEY] ?? '', 'base64').toString(), 'CREDS');
    assert.throws(() => credentialsSecretManifest({ metadata: { name: 'x' } }, 'CREDS'), /uid/);
  });

  test('the pod mounts the Secret read-only and finds it through NATS_CREDS', async () => {
    const { credentials, job } = await setup();
    const mounted = mountCredentials(job, credentials);
    new Job(plainManifest(mounted) as ConstructorParameters<typeof Job>[0]).validate();
    const pod = mounted.spec?.template.spec;
    const container = pod?.containers[0];
    assert.deepEqual(pod?.volumes?.find((v) => v.name === 'nats-credentials')?.secret, {
      secretName: credentialsSecretName(job.metadata?.name ?? ''),
      defaultMode: 0o440,
      optional: false,
    });
    assert.deepEqual(
      container?.volumeMounts?.find((m) => m.name === 'nats-credentials'),
      {
        name: 'nats-credentials',
        mountPath: '/var/run/esweep/nats',
        readOnly: true,
      },
    );
    assert.deepEqual(
      container?.env?.filter((e) => e.name === 'NATS_CREDS'),
      [{ name: 'NATS_CREDS', value: '/var/run/esweep/nats/user.creds' }],
    );
  });

  test("mints the trial's own grants, expiring with the Job's deadline, once per Job", async () => {
    const { chain, credentials, created } = await setup();
    const bodies: V1Secret[] = [];
    let exists = false;
    const secrets = {
      createNamespacedSecret: async ({ namespace, body }: { namespace: string; body: V1Secret }) => {
        assert.equal(namespace, 'research');
        if (exists) throw new ApiException(409, 'AlreadyExists', {}, {});
        bodies.push(body);
        exists = true;
      },
    };
    const now = new Date('2030-01-01T00:00:00Z');
    const issuer = new JobCredentials(
      {
        namespace: 'research',
        activeDeadlineSeconds: 7200,
        env: { ESWEEP_EVENT_PREFIX: 'lab' },
        credentials,
      },
      secrets,
      () => now,
    );
    assert.equal(await issuer.ensureFor(created, request), 'created');
    assert.equal(await issuer.ensureFor(created, request), 'exists');
    assert.equal(bodies.length, 1);

    const { jwt } = await parseCreds(Buffer.from(bodies[0]?.data?.[CREDS_KEY] ?? '', 'base64'));
    const claims = decode<User>(jwt);
    assert.equal(claims.iss, chain.signingKey.publicKey);
    assert.equal(claims.nats.issuer_account, chain.account.publicKey);
    assert.equal(claims.exp, now.getTime() / 1000 + 7200 + 600);
    assert.ok(claims.nats.pub?.allow?.includes('lab.v1.cs1.ct9.*'));
    assert.ok(claims.nats.sub?.allow?.includes('_ESWEEP_INBOX.ct9.2.>'));

    // Queued Jobs (Kueue) get a day more by default; validForSeconds overrides both.
    const settings = { namespace: 'research', activeDeadlineSeconds: 7200, env: {}, credentials };
    const queued = new JobCredentials({ ...settings, queueName: 'gpu' }, secrets, () => now);
    assert.equal(queued.expiryFor().getTime(), now.getTime() + (7200 + 600 + 86_400) * 1000);
    const fixed = new JobCredentials(
      { ...settings, queueName: 'gpu', credentials: { ...credentials, validForSeconds: 60 } },
      secrets,
      () => now,
    );
    assert.equal(fixed.expiryFor().getTime(), now.getTime() + 60_000);
  });

  test('reports a missing signing key, a bad account key and the identity key as bad input', async () => {
    const { chain, credentials } = await setup();
    const settings = { namespace: 'n', activeDeadlineSeconds: 60, env: {}, credentials };
    const noSecrets = { createNamespacedSecret: async () => {} };
    assert.throws(
      () =>
        new JobCredentials(
          { ...settings, credentials: { ...credentials, accountSigningKeyFile: join(dir, 'missing') } },
          noSecrets,
        ),
      (e: unknown) => e instanceof InputError && /signing key/.test(e.message),
    );
    const identityFile = join(dir, 'identity.nk');
    writeFileSync(identityFile, chain.account.seed);
    assert.throws(
      () =>
        new JobCredentials(
          { ...settings, credentials: { ...credentials, accountSigningKeyFile: identityFile } },
          noSecrets,
        ),
      /identity key/,
    );
    assert.equal(
      natsCredentialsSchema.safeParse({ ...credentials, accountPublicKey: 'UABC' }).success,
      false,
    );
  });
});

describe('per-Job NATS credentials through the kubernetes backend (fake API server)', () => {
  test('a Secret per Job, owned by it, recreated after a restart between the two calls, collected with the Job', async () => {
    const chain = await createTrustChain();
    const keyFile = join(dir, 'backend-signing.nk');
    writeFileSync(keyFile, chain.signingKey.seed);
    const cluster = await startFakeCluster(
      {},
      {
        nats: { credentials: { accountSigningKeyFile: keyFile, accountPublicKey: chain.account.publicKey } },
      },
    );
    const backend = new KubernetesBackend(cluster.config, { restartDelayMs: 50 });
    const kc = kubeConfigFor(cluster.config);
    const core = kc.makeApiClient(CoreV1Api);
    const batch = kc.makeApiClient(BatchV1Api);
    const namespace = cluster.config.namespace;
    const run = { ...request, spec: { ...request.spec, seed: 0 } };
    const name = runName(run.sweepName, run.trialKey, run.attempt);
    const secretName = credentialsSecretName(name);
    const secret = async () =>
      (await core.listNamespacedSecret({ namespace, fieldSelector: `metadata.name=${secretName}` })).items[0];
    try {
      await backend.start();
      assert.equal(await backend.create(run), 'created');
      const job = await batch.readNamespacedJob({ name, namespace });
      const stored = await secret();
      assert.ok(stored, 'the Secret exists');
      assert.equal(stored.metadata?.ownerReferences?.[0]?.uid, job.metadata?.uid);
      const { jwt } = await parseCreds(Buffer.from(stored.data?.[CREDS_KEY] ?? '', 'base64'));
      assert.ok(decode<User>(jwt).nats.pub?.allow?.includes(`esweep.v1.${run.sweepId}.${run.trialId}.*`));
      assert.equal(
        job.spec?.template.spec?.volumes?.find((v) => v.name === 'nats-credentials')?.secret?.secretName,
        secretName,
      );

      // A controller that died after creating the Job: the next create finds it and adds the Secret.
      await core.deleteNamespacedSecret({ name: secretName, namespace });
      assert.equal(await secret(), undefined);
      assert.equal(await backend.create(run), 'exists');
      assert.equal((await secret())?.metadata?.ownerReferences?.[0]?.uid, job.metadata?.uid);

      await backend.cancel(name);
      await waitFor('the Secret collected with its Job', async () => (await secret()) === undefined);
    } finally {
      await backend.close();
      await cluster.close();
    }
  });
});
