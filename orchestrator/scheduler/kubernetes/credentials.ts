// Per-Job NATS credentials (docs/security.md): with `nats.credentials` in the cluster settings, the
// controller mints for each Job a user that may publish only that trial's events and store only its
// own artifacts, expiring with the Job's deadline, and hands it over in a Secret owned by the Job
// (the API server's garbage collector deletes it with the Job). The Job is created first (the
// Secret's owner reference needs its uid); its pod waits for the Secret volume before it starts.
import { readFileSync } from 'node:fs';
import { ApiException, type V1Job, type V1Secret } from '@kubernetes/client-node';
import { z } from 'zod';
import { InputError } from '../../../common/errors.ts';
import { AccountSigner, workerPermissions } from '../../events/credentials.ts';
import type { RunRequest } from '../backend.ts';

export const natsCredentialsSchema = z.strictObject({
  /** The account signing key's seed (`SA…`), e.g. a Secret mounted into the controller's pod. */
  accountSigningKeyFile: z.string().min(1),
  /** The account's public key (`A…`): the account the minted users belong to. */
  accountPublicKey: z.string().regex(/^A[A-Z2-7]{55}$/, 'must be an account public key (A…, 56 characters)'),
  /**
   * How long a Job's user is valid, from its creation. Default: the Job's activeDeadlineSeconds
   * plus `graceSeconds`, plus `queueSeconds` when Jobs wait in a Kueue queue (the deadline counts
   * from admission, the credentials from creation).
   */
  validForSeconds: z.number().int().positive().optional(),
  graceSeconds: z.number().int().nonnegative().default(600),
  queueSeconds: z.number().int().nonnegative().default(86_400),
  /** Where the worker finds its `.creds` file. */
  mountPath: z.string().startsWith('/').default('/var/run/esweep/nats'),
});
export type NatsCredentialsConfig = z.output<typeof natsCredentialsSchema>;

/** The Secret's key holding the `.creds` file. */
export const CREDS_KEY = 'user.creds';
const VOLUME = 'nats-credentials';

/** The per-Job Secret's name: the Job's name (a DNS label) and a suffix. */
export const credentialsSecretName = (jobName: string) => `${jobName}-nats`;

/** What of the cluster settings the credentials depend on. */
export interface CredentialsSettings {
  namespace: string;
  activeDeadlineSeconds: number;
  /** Set when Jobs wait for admission by Kueue. */
  queueName?: string;
  /** The workers' environment (`ESWEEP_EVENT_PREFIX`, `ESWEEP_ARTIFACT_BUCKET` if set). */
  env: Record<string, string>;
  credentials: NatsCredentialsConfig;
}

/**
 * The Secret holding one Job's credentials, owned by that Job: deleting the Job (by the controller,
 * by its TTL after finishing, by hand) deletes the Secret.
 */
export function credentialsSecretManifest(job: V1Job, creds: string): V1Secret {
  const name = job.metadata?.name;
  const uid = job.metadata?.uid;
  if (!name || !uid) throw new Error('the Job must be created (have a name and uid) before its Secret');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: credentialsSecretName(name),
      namespace: job.metadata?.namespace,
      labels: { ...(job.metadata?.labels ?? {}) },
      // No blockOwnerDeletion: nothing needs the Job to wait for its Secret, and setting it would
      // need `update` on jobs/finalizers where OwnerReferencesPermissionEnforcement is enabled.
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid, controller: true }],
    },
    immutable: true,
    data: { [CREDS_KEY]: Buffer.from(creds, 'utf8').toString('base64') },
  };
}

/**
 * The Job with the Secret mounted read-only at `mountPath` and `NATS_CREDS` naming the file. The
 * volume is not optional: the kubelet holds the pod until the Secret exists.
 */
export function mountCredentials(job: V1Job, credentials: NatsCredentialsConfig): V1Job {
  const name = job.metadata?.name;
  const pod = job.spec?.template.spec;
  const container = pod?.containers[0];
  if (!name || !pod || !container) throw new Error('mountCredentials: not a Job with a container');
  const path = `${credentials.mountPath}/${CREDS_KEY}`;
  container.env = [
    ...(container.env ?? []).filter((e) => e.name !== 'NATS_CREDS'),
    { name: 'NATS_CREDS', value: path },
  ];
  container.volumeMounts = [
    ...(container.volumeMounts ?? []),
    { name: VOLUME, mountPath: credentials.mountPath, readOnly: true },
  ];
  pod.volumes = [
    ...(pod.volumes ?? []),
    {
      name: VOLUME,
      secret: { secretName: credentialsSecretName(name), defaultMode: 0o440, optional: false },
    },
  ];
  return job;
}

/** The one call of the core API this needs (a seam for tests). */
export interface SecretsApi {
  createNamespacedSecret(request: { namespace: string; body: V1Secret }): Promise<unknown>;
}

/** Mints a Job's user and stores it in the Job's Secret. */
export class JobCredentials {
  private readonly signer: AccountSigner;

  constructor(
    private readonly settings: CredentialsSettings,
    private readonly secrets: SecretsApi,
    private readonly now: () => Date = () => new Date(),
  ) {
    const file = settings.credentials.accountSigningKeyFile;
    let seed: string;
    try {
      seed = readFileSync(file, 'utf8');
    } catch (error) {
      throw new InputError(`cannot read the NATS account signing key ${file}: ${(error as Error).message}`);
    }
    this.signer = new AccountSigner(seed, settings.credentials.accountPublicKey);
  }

  /** The Job with its Secret mounted (see mountCredentials). */
  mount(job: V1Job): V1Job {
    return mountCredentials(job, this.settings.credentials);
  }

  /** When a Job created now loses its NATS access. */
  expiryFor(): Date {
    const { validForSeconds, graceSeconds, queueSeconds } = this.settings.credentials;
    const queued = this.settings.queueName ? queueSeconds : 0;
    const seconds = validForSeconds ?? this.settings.activeDeadlineSeconds + graceSeconds + queued;
    return new Date(this.now().getTime() + seconds * 1000);
  }

  /**
   * Creates the Job's Secret unless it exists. A Job found already created (a controller restart
   * between the two calls) gets its Secret here; an existing Secret is kept (it is immutable).
   */
  async ensureFor(job: V1Job, request: RunRequest): Promise<'created' | 'exists'> {
    const user = await this.signer.mint(
      job.metadata?.name ?? request.trialId,
      workerPermissions({
        sweepId: request.sweepId,
        trialId: request.trialId,
        attempt: request.attempt,
        prefix: this.settings.env.ESWEEP_EVENT_PREFIX || undefined,
        bucket: this.settings.env.ESWEEP_ARTIFACT_BUCKET || undefined,
      }),
      this.expiryFor(),
    );
    try {
      await this.secrets.createNamespacedSecret({
        namespace: this.settings.namespace,
        body: credentialsSecretManifest(job, user.creds),
      });
      return 'created';
    } catch (error) {
      if (error instanceof ApiException && error.code === 409) return 'exists';
      throw error;
    }
  }
}
