// NATS operator/JWT mode (docs/security.md): the trust chain (operator → account → users), the
// subjects each identity may use, and user credentials minted by the holder of the account's signing
// key. Keys come from @nats-io/nkeys, JWTs from @nats-io/jwt. The server only checks signatures and
// grants; nothing here talks to it. Clients log in with a `.creds` file (credsFileOptions).
import { readFileSync } from 'node:fs';
import { encodeAccount, encodeOperator, encodeUser, fmtCreds, type Permissions } from '@nats-io/jwt';
import {
  createAccount,
  createOperator,
  createUser,
  fromPublic,
  fromSeed,
  type KeyPair,
} from '@nats-io/nkeys';
import { type ConnectionOptions, credsAuthenticator } from '@nats-io/transport-node';
import { InputError } from '../../common/errors.ts';
import { ARTIFACT_BUCKET, artifactName, DENSE_WEIGHT_FILES } from './artifacts.ts';
import { bucketStream, objectMetaSubject } from './object-reader.ts';
import { DEFAULT_STREAM, DEFAULT_SUBJECT_PREFIX, PROTOCOL_VERSION } from './protocol.ts';

const API = '$JS.API';
const text = new TextDecoder();

/**
 * A worker's reply subjects: its own prefix instead of `_INBOX`, so it can be allowed to subscribe
 * to its replies only (with `_INBOX.>` it could read every other client's replies).
 */
export function workerInboxPrefix(trialId: string, attempt: number): string {
  return `_ESWEEP_INBOX.${trialId}.${attempt}`;
}

export interface WorkerGrant {
  sweepId: string;
  trialId: string;
  attempt: number;
  /** Subject prefix (default `esweep`). */
  prefix?: string;
  /** Object store bucket (default `esweep-artifacts`). */
  bucket?: string;
}

/**
 * What one attempt may do: publish its own trial's events, store its own artifacts, read objects
 * of the bucket (a magnitude/LAMP trial reads its dense trial's weights) and receive replies on its
 * own inbox. No stream, consumer or account management; no other trial's subjects.
 */
export function workerPermissions(grant: WorkerGrant): Permissions {
  const prefix = grant.prefix ?? DEFAULT_SUBJECT_PREFIX;
  const bucket = grant.bucket ?? ARTIFACT_BUCKET;
  const obj = bucketStream(bucket);
  const own = (file: string) =>
    objectMetaSubject(bucket, artifactName(grant.sweepId, grant.trialId, grant.attempt, file));
  const publish = [
    `${prefix}.v${PROTOCOL_VERSION}.${grant.sweepId}.${grant.trialId}.*`,
    // Opening the bucket and listing its names (stream info), reading metadata and chunks (message
    // get; object-reader.ts reads without consumers, which a worker may not create).
    `${API}.INFO`,
    `${API}.STREAM.INFO.${obj}`,
    `${API}.STREAM.MSG.GET.${obj}`,
    // Chunks are published under a random id the client picks, so they cannot be narrowed by name;
    // the metadata that makes them an object can: only this attempt's own names.
    `$O.${bucket}.C.*`,
    ...Object.values(DENSE_WEIGHT_FILES).map(own),
  ];
  return {
    pub: { allow: publish, deny: [] },
    sub: { allow: [`${workerInboxPrefix(grant.trialId, grant.attempt)}.>`], deny: [] },
  };
}

export interface IngesterGrant {
  prefix?: string;
  /** Events stream (default `ESWEEP`); dead letters in `<stream>_DLQ`. */
  stream?: string;
  /** Durable consumer (default `ingester`). */
  durable?: string;
  /** Object store bucket it may create and configure (default `esweep-artifacts`). */
  bucket?: string;
}

/**
 * The ingester: keep its streams, the artifact bucket and its durable consumer in shape (create,
 * update, inspect; never delete or purge), pull and ack, publish dead letters. Publishing events is
 * denied outright.
 */
export function ingesterPermissions(grant: IngesterGrant = {}): Permissions {
  const prefix = grant.prefix ?? DEFAULT_SUBJECT_PREFIX;
  const stream = grant.stream ?? DEFAULT_STREAM;
  const dlq = `${stream}_DLQ`;
  const durable = grant.durable ?? 'ingester';
  const streams = [stream, dlq, bucketStream(grant.bucket ?? ARTIFACT_BUCKET)];
  const streamCalls = ['INFO', 'CREATE', 'UPDATE'].flatMap((call) =>
    streams.map((name) => `${API}.STREAM.${call}.${name}`),
  );
  return {
    pub: {
      allow: [
        `${API}.INFO`,
        ...streamCalls,
        `${API}.CONSUMER.INFO.${stream}.${durable}`,
        `${API}.CONSUMER.CREATE.${stream}.${durable}`,
        `${API}.CONSUMER.CREATE.${stream}.${durable}.>`,
        `${API}.CONSUMER.DURABLE.CREATE.${stream}.${durable}`,
        `${API}.CONSUMER.MSG.NEXT.${stream}.${durable}`,
        `$JS.ACK.${stream}.${durable}.>`,
        `${prefix}.dlq.>`,
      ],
      deny: [`${prefix}.v${PROTOCOL_VERSION}.>`],
    },
    sub: { allow: ['_INBOX.>'], deny: [] },
  };
}

/** A key as stored: its public key, and its seed where this side holds it. */
export interface NamedKey {
  publicKey: string;
  seed: string;
}

export interface TrustChain {
  operator: NamedKey & { jwt: string };
  /** The account workers and the ingester live in (JetStream enabled). */
  account: NamedKey & { jwt: string };
  /** What the controller holds: it signs users of `account`, and cannot sign a new account. */
  signingKey: NamedKey;
  /** The server's system account. */
  system: NamedKey & { jwt: string };
}

export interface TrustChainOptions {
  operatorName?: string;
  accountName?: string;
  /** JetStream file storage of the account in bytes (default -1: unlimited). */
  diskStorage?: number;
  /** JetStream memory storage of the account in bytes (default -1). */
  memStorage?: number;
}

const seedOf = (kp: KeyPair) => text.decode(kp.getSeed());
const named = (kp: KeyPair): NamedKey => ({ publicKey: kp.getPublicKey(), seed: seedOf(kp) });

/** Creates a new operator, an account with JetStream and a signing key, and a system account. */
export async function createTrustChain(options: TrustChainOptions = {}): Promise<TrustChain> {
  const operator = createOperator();
  const account = createAccount();
  const signing = createAccount();
  const system = createAccount();
  const systemJwt = await encodeAccount('SYS', system, {}, { signer: operator });
  const accountJwt = await encodeAccount(
    options.accountName ?? 'ESWEEP',
    account,
    {
      signing_keys: [signing.getPublicKey()],
      limits: {
        // Without explicit values the server allows no connections and no subscriptions.
        subs: -1,
        data: -1,
        payload: -1,
        conn: -1,
        leaf: -1,
        imports: -1,
        exports: -1,
        wildcards: true,
        mem_storage: options.memStorage ?? -1,
        disk_storage: options.diskStorage ?? -1,
        streams: -1,
        consumer: -1,
      },
    },
    { signer: operator },
  );
  const operatorJwt = await encodeOperator(options.operatorName ?? 'esweep', operator, {
    system_account: system.getPublicKey(),
  });
  return {
    operator: { ...named(operator), jwt: operatorJwt },
    account: { ...named(account), jwt: accountJwt },
    signingKey: named(signing),
    system: { ...named(system), jwt: systemJwt },
  };
}

/**
 * The part of a nats-server configuration that makes it trust the chain: the operator, the system
 * account and the accounts preloaded in a `MEMORY` resolver. A deployment's own configuration
 * can `include` it.
 */
export function trustConfig(chain: Pick<TrustChain, 'operator' | 'account' | 'system'>): string {
  return [
    `operator: ${JSON.stringify(chain.operator.jwt)}`,
    `system_account: ${JSON.stringify(chain.system.publicKey)}`,
    'resolver: MEMORY',
    'resolver_preload: {',
    `  ${chain.account.publicKey}: ${JSON.stringify(chain.account.jwt)}`,
    `  ${chain.system.publicKey}: ${JSON.stringify(chain.system.jwt)}`,
    '}',
    '',
  ].join('\n');
}

/** A whole nats-server configuration: where it listens, JetStream, and the trust chain. */
export function serverConfig(
  chain: Pick<TrustChain, 'operator' | 'account' | 'system'>,
  server: { host?: string; port: number; storeDir: string },
): string {
  return [
    `host: ${JSON.stringify(server.host ?? '127.0.0.1')}`,
    `port: ${server.port}`,
    `jetstream: { store_dir: ${JSON.stringify(server.storeDir)} }`,
    trustConfig(chain),
  ].join('\n');
}

/** Signs users of one account with one of its signing keys. */
export class AccountSigner {
  private readonly signingKey: KeyPair;
  private readonly account: KeyPair;

  /**
   * @param signingKeySeed the signing key's seed (`SA…`), as the bootstrap wrote it
   * @param accountPublicKey the account's public key (`A…`) the users belong to
   */
  constructor(signingKeySeed: string, accountPublicKey: string) {
    const seed = signingKeySeed.trim();
    if (!seed.startsWith('SA')) throw new InputError('the account signing key must be an account seed (SA…)');
    try {
      this.signingKey = fromSeed(new TextEncoder().encode(seed));
    } catch {
      throw new InputError('the account signing key is not a valid nkey seed');
    }
    const account = accountPublicKey.trim();
    try {
      this.account = fromPublic(account);
    } catch {
      throw new InputError(`'${account}' is not an account public key`);
    }
    if (!account.startsWith('A')) throw new InputError(`'${account}' is not an account public key (A…)`);
    // The identity key can also sign the account's own JWT; the controller gets a signing key only.
    if (this.signingKey.getPublicKey() === account) {
      throw new InputError("this is the account's identity key; give the controller one of its signing keys");
    }
  }

  get accountPublicKey(): string {
    return this.account.getPublicKey();
  }

  /**
   * A new user (fresh key pair) with these grants, valid until `expiresAt`, as a `.creds` file
   * (its JWT and its seed).
   */
  async mint(name: string, permissions: Permissions, expiresAt: Date): Promise<MintedUser> {
    const user = createUser();
    const exp = Math.floor(expiresAt.getTime() / 1000);
    const jwt = await encodeUser(
      name,
      user,
      this.account,
      { ...permissions, bearer_token: false },
      { signer: this.signingKey, exp },
    );
    return { publicKey: user.getPublicKey(), jwt, creds: text.decode(fmtCreds(jwt, user)), expiresAt };
  }
}

export interface MintedUser {
  publicKey: string;
  jwt: string;
  /** The `.creds` file: JWT and user seed. A secret. */
  creds: string;
  expiresAt: Date;
}

/**
 * Client options that authenticate with a `.creds` file (none without one). The file is read at
 * every (re)connect, so a rotated Secret is picked up; an unreadable file is reported at once.
 */
export function credsFileOptions(file: string | undefined): Partial<ConnectionOptions> {
  if (!file) return {};
  try {
    readFileSync(file);
  } catch (error) {
    throw new InputError(`cannot read the NATS credentials ${file}: ${(error as Error).message}`);
  }
  return { authenticator: credsAuthenticator(() => readFileSync(file)) };
}
