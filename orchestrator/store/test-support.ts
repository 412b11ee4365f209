// Test helpers: a fresh, migrated database per test file (a uniquely named PostgreSQL database, dropped
// afterwards, or an in-memory PGlite), and a little seeding.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TrialSpec } from '../../worker/trial/spec.ts';
import type { TrialEvent } from '../events/protocol.ts';
import { parseSweepDocument, type SweepFile } from '../sweep/spec.ts';
import { type Database, type OpenOptions, openDatabase } from './database.ts';
import { migrate } from './migrate.ts';
import { storeOf } from './prisma-store.ts';
import type { Store, SweepStore, TrialInput } from './store.ts';

/** The server the tests use (`ESWEEP_TEST_DATABASE_URL`, default the local one). */
export const TEST_SERVER_URL =
  process.env.ESWEEP_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export function urlFor(database: string, server = TEST_SERVER_URL): string {
  const url = new URL(server);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function adminQuery(sql: string, server = TEST_SERVER_URL): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface TestDatabase extends Database {
  /** Database name (PostgreSQL) or 'pglite'. */
  readonly name: string;
  readonly url: string;
  readonly store: Store;
  /** Closes and drops it. */
  dispose(): Promise<void>;
}

/** A new, migrated PostgreSQL database with a unique name. */
export async function createTestDatabase(label = 'test', options: OpenOptions = {}): Promise<TestDatabase> {
  const name = `esweep_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE DATABASE "${name}"`);
  const url = urlFor(name);
  const db = await openDatabase(url, options);
  await migrate(db);
  return {
    ...db,
    name,
    url,
    store: storeOf(db),
    dispose: async () => {
      await db.close();
      await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

/** A new, migrated in-memory PGlite database. */
export async function createPgliteDatabase(): Promise<TestDatabase> {
  const db = await openDatabase('pglite:memory');
  await migrate(db);
  return {
    ...db,
    name: 'pglite',
    url: 'pglite:memory',
    store: storeOf(db),
    dispose: () => db.close(),
  };
}

/** A valid trial document (stored documents are validated when read back). */
export const TEST_TRIAL_DOCUMENT: TrialSpec = {
  arch: 'lenet300100',
  pruner: 'random/uniform',
  type: 'direct',
  sparsity: 0.9,
  seed: 0,
};

export function trialInput(i: number, overrides: Partial<TrialInput> = {}): TrialInput {
  return {
    key: `k${i}`,
    arch: 'lenet300100',
    dataset: 'mnist',
    pruner: 'random/uniform',
    pruningType: 'direct',
    targetSparsity: 0.9,
    targetCompression: 10,
    seed: 0,
    budget: { iterations: 10 },
    params: TEST_TRIAL_DOCUMENT,
    ...overrides,
  };
}

/** A sweep with `n` trials; returns its id and the trial ids in key order. */
export async function seedSweep(
  store: SweepStore,
  n: number,
  name = `sweep-${randomBytes(3).toString('hex')}`,
): Promise<{ sweepId: string; trialIds: string[] }> {
  const trials = Array.from({ length: n }, (_, i) =>
    trialInput(i, { key: `k${String(i).padStart(6, '0')}` }),
  );
  const { sweep } = await store.submitSweep({ name, spec: testSweepSpec(name) }, trials);
  const rows = await store.listTrials(sweep.id);
  return { sweepId: sweep.id, trialIds: rows.map((t) => t.id) };
}

/** A valid sweep spec named `name` (stored specs are validated when read back). */
export function testSweepSpec(name: string, fields: Record<string, unknown> = {}): SweepFile {
  return parseSweepDocument({
    name,
    architectures: ['lenet300100'],
    pruners: ['random/uniform'],
    compressions: [10],
    ...fields,
  });
}

/** Who an event in a store test is from; the incarnation is left out as old workers do. */
export type EventHeader = Pick<TrialEvent, 'sweepId' | 'trialId' | 'attempt'> & { incarnation?: string };

let eventClock = Date.now() - 3_600_000;
/** An event in a store test, a second after the one made before it. */
export function testEvent(h: EventHeader, seq: number, body: Record<string, unknown>): TrialEvent {
  eventClock += 1000;
  return { v: 1, ...h, seq, time: new Date(eventClock).toISOString(), ...body } as TrialEvent;
}

/** A `completed` event's body at sparsity 0.9 direct, 0.95 effective. */
export const completedBody = (accuracy: number) => ({
  kind: 'completed',
  accuracy,
  directSparsity: 0.9,
  effectiveSparsity: 0.95,
  directCompression: 10,
  effectiveCompression: 20,
});

/** A `sparsity` event's body: one 10×10 layer keeping `direct` weights, all of them effective. */
export const sparsityBody = (direct: number) => ({
  kind: 'sparsity',
  layers: [{ name: 'fc1', shape: [10, 10], params: 100, direct, effective: direct }],
  overall: { directSparsity: 1 - direct / 100, effectiveSparsity: 1 - direct / 100 },
});
