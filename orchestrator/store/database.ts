// One way to open the results database, whichever it is: a PostgreSQL server (cluster) or an embedded
// PGlite directory (laptop, `.esweep/db`). Both give the same generated Prisma client, so repositories,
// the ingester and the query layer never know which one they talk to.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type pg from 'pg';
import { parse as parsePgUrl } from 'pg-connection-string';
import { InputError, ServiceUnavailableError } from '../../common/errors.ts';
import type { Prisma, PrismaClient } from './generated/prisma/client.ts';

export type { Attempt, Prisma, PrismaClient, Sweep, Trial } from './generated/prisma/client.ts';

/** A client or the client of a transaction: what the statements of one write run on. */
export type Tx = Prisma.TransactionClient | PrismaClient;

/** Where the embedded database lives unless told otherwise. */
export const DEFAULT_EMBEDDED_DIR = '.esweep/db';

/**
 * A database location: `postgres://…`/`postgresql://…` (a server), `pglite:DIR` (embedded, data in
 * DIR) or `pglite:memory` (embedded, in memory; tests).
 */
export type DatabaseTarget =
  | { kind: 'postgres'; url: string }
  | { kind: 'pglite'; dataDir: string | null /* null = in memory */ };

export interface Database {
  /**
   * The Prisma client, created at its first use. On a database opened with `deferPrisma`, only
   * after `loadPrisma()`: reading it before throws.
   */
  readonly prisma: PrismaClient;
  /** Loads Prisma's client and driver adapter modules (once); `prisma` works from then on. */
  loadPrisma(): Promise<void>;
  readonly target: DatabaseTarget;
  /** The driver adapter factory (the schema engine needs it to migrate), its module loaded first. */
  adapterFactory(): Promise<SqlMigrationAwareDriverAdapterFactory>;
  /**
   * One SQL statement with `$1…` parameters, straight through the driver (no Prisma client): for the
   * reads of the read-only commands. Column types as PGlite and pg both return them: cast counts and
   * bigints to `int`/`float8`, enums to `text`.
   */
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/**
 * A Database whose Prisma modules load at open, or with `deferPrisma` at the first `loadPrisma()` or
 * `adapterFactory()` (Prisma's runtime, pg and the adapters are a large part of a read-only command's
 * start-up: docs/performance.md), and whose client is created at its first use (its query compiler
 * is slow to load) and closed only if it was.
 */
async function lazyDatabase(
  target: DatabaseTarget,
  loadAdapterFactory: () => Promise<SqlMigrationAwareDriverAdapterFactory>,
  query: Database['query'],
  closeDriver: () => Promise<void>,
  deferPrisma: boolean,
): Promise<Database> {
  let factory: Promise<SqlMigrationAwareDriverAdapterFactory> | undefined;
  const adapterFactory = () => {
    factory ??= loadAdapterFactory();
    return factory;
  };
  let Client: typeof PrismaClient | undefined;
  let adapter: SqlMigrationAwareDriverAdapterFactory | undefined;
  let prisma: PrismaClient | undefined;
  const client = () => {
    if (!Client || !adapter)
      throw new Error('the Prisma client was not loaded: this database was opened with deferPrisma');
    prisma ??= new Client({ adapter });
    return prisma;
  };
  const loadPrisma = async () => {
    [{ PrismaClient: Client }, adapter] = await Promise.all([
      import('./generated/prisma/client.ts'),
      adapterFactory(),
    ]);
  };
  if (!deferPrisma)
    await loadPrisma().catch(async (error: unknown) => {
      await closeDriver();
      throw error;
    });
  return {
    get prisma() {
      return client();
    },
    loadPrisma,
    target,
    adapterFactory,
    query,
    close: async () => {
      await prisma?.$disconnect();
      await closeDriver();
    },
  };
}

/** Parses a database location (see {@link DatabaseTarget}); a bare path means an embedded directory. */
export function parseDatabaseTarget(location: string): DatabaseTarget {
  if (/^postgres(ql)?:\/\//.test(location)) return { kind: 'postgres', url: location };
  if (location === 'pglite:memory' || location === 'memory:') return { kind: 'pglite', dataDir: null };
  const dir = location.startsWith('pglite:') ? location.slice('pglite:'.length) : location;
  if (dir === '' || /^[a-z][a-z0-9+.-]*:\/\//i.test(dir)) {
    throw new InputError(
      `database: '${location}' is neither a postgres:// URL nor an embedded directory (pglite:DIR)`,
    );
  }
  return { kind: 'pglite', dataDir: resolve(dir) };
}

/**
 * The database to use: the explicit location, else `DATABASE_URL`, else the embedded default
 * `.esweep/db` (relative to the working directory).
 */
export function resolveDatabaseTarget(
  location?: string,
  env: NodeJS.ProcessEnv = process.env,
): DatabaseTarget {
  return parseDatabaseTarget(location || env.DATABASE_URL || `pglite:${DEFAULT_EMBEDDED_DIR}`);
}

export function describeTarget(target: DatabaseTarget): string {
  if (target.kind === 'pglite') return target.dataDir ? `pglite:${target.dataDir}` : 'pglite:memory';
  const url = new URL(target.url);
  if (url.password) url.password = '***';
  return url.toString();
}

export interface OpenOptions {
  /** Pool size for PostgreSQL (default 4). */
  poolSize?: number;
  /** Called when an idle pooled connection dies (e.g. the server terminated it); default: ignore. */
  onPoolError?: (error: Error) => void;
  /**
   * Leave Prisma unloaded until `loadPrisma()` (or a migration) asks for it: for commands that read
   * only through `query`.
   */
  deferPrisma?: boolean;
  /**
   * An embedded database for a short read: PostgreSQL's shared memory sized for it (PGlite zeroes all
   * of it at every open; the default shared_buffers make that a noticeable part of opening), and only
   * the built-in array types known (see briefReadPGlite).
   */
  briefRead?: boolean;
}

/** pg Pool settings from a postgres:// URL, as separate fields. */
export function pgConfig(url: string): Record<string, unknown> {
  const parsed = parsePgUrl(url);
  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed))
    if (value !== undefined && value !== null) config[key] = value;
  if (typeof config.port === 'string') config.port = Number(config.port);
  return config;
}

const MAX_REASON = 200;

/** The driver's own words from its error (Prisma wraps them in lines about its invocation), cut short. */
function reason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const line = (/Message: `([^`]*)`/.exec(text)?.[1] ?? lines.at(-1) ?? 'no answer').trim();
  return line.length > MAX_REASON ? `${line.slice(0, MAX_REASON - 1)}…` : line;
}

/**
 * A server that cannot be reached is not the user's mistake: one line and its own exit code
 * (ServiceUnavailableError), checked before anything (a migration, a worker) depends on it.
 */
export async function assertReachable(database: Database, where: string): Promise<void> {
  if (database.target.kind !== 'postgres') return;
  try {
    await database.query('SELECT 1');
  } catch (error) {
    throw new ServiceUnavailableError(`cannot reach the database at ${where}: ${reason(error)}`);
  }
}

/** Shared buffers of an embedded database opened for a short read (`briefRead`). */
const BRIEF_READ_SHARED_BUFFERS = '16MB';

/** Array types (element OID → array OID) of the built-in types the plain reads may pass or read. */
const BRIEF_READ_ARRAYS: [element: number, array: number][] = [
  [16, 1000], // bool
  [20, 1016], // int8
  [23, 1007], // int4
  [25, 1009], // text
  [701, 1022], // float8
  [1184, 1185], // timestamptz
  [3802, 3807], // jsonb
];

type PGliteModule = typeof import('@electric-sql/pglite');

/**
 * An embedded database for a short read. PGlite's open ends with a catalog query for every array type
 * (`_initArrayTypes`, the hook it documents for implementing classes), the first query on a cold
 * catalog: here the array types of the built-in types above are given instead. The driver adapter
 * (Prisma, the schema engine) needs them all: `adapterFactory()` reads them first.
 */
function briefReadPGlite({ PGlite, types }: PGliteModule, dataDir: string | undefined): PGlite {
  class BriefReadPGlite extends PGlite {
    /** Skipped at the open; `refreshArrayTypes()` (force) still reads them all. */
    override async _initArrayTypes(options?: { force?: boolean }): Promise<void> {
      if (options?.force) await super._initArrayTypes(options);
    }
  }
  const serializers = Object.fromEntries(
    BRIEF_READ_ARRAYS.map(([element, array]) => [
      array,
      (x: unknown) => types.arraySerializer(x, types.serializers[element], array),
    ]),
  );
  const parsers = Object.fromEntries(
    BRIEF_READ_ARRAYS.map(([element, array]) => [
      array,
      (x: string) => types.arrayParser(x, types.parsers[element] ?? ((v: string) => v), array),
    ]),
  );
  return new BriefReadPGlite({
    dataDir,
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${BRIEF_READ_SHARED_BUFFERS}`],
    serializers,
    parsers,
  });
}

/** Opens the database (does not migrate; see migrate.ts). */
export async function openDatabase(
  target: DatabaseTarget | string,
  options: OpenOptions = {},
): Promise<Database> {
  if (typeof target === 'string') target = parseDatabaseTarget(target);
  const deferPrisma = options.deferPrisma ?? false;
  if (target.kind === 'postgres') {
    const config = {
      // Fields, not a connection string: the adapter opens the shadow database (used to check the
      // migrations for drift) by overriding `database`, which a connection string would win over.
      ...pgConfig(target.url),
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 10_000,
    };
    const onPoolError = options.onPoolError ?? (() => {});
    const adapterFactory = async () => {
      const { PrismaPg } = await import('@prisma/adapter-pg');
      return new PrismaPg({ ...config, max: options.poolSize ?? 4 }, { onPoolError });
    };
    // The plain reads get their own small pool, opened at the first of them.
    let pool: Promise<pg.Pool> | undefined;
    const openPool = async () => {
      const { default: driver } = await import('pg');
      const opened = new driver.Pool({ ...config, max: 2 });
      opened.on('error', onPoolError);
      return opened;
    };
    const query = async <T>(sql: string, params: unknown[] = []): Promise<T[]> => {
      pool ??= openPool();
      const result = await (await pool).query(sql, params);
      return result.rows as T[];
    };
    return lazyDatabase(
      target,
      adapterFactory,
      query,
      async () => {
        await (await pool)?.end();
      },
      deferPrisma,
    );
  }
  if (target.dataDir) mkdirSync(target.dataDir, { recursive: true });
  const module = await import('@electric-sql/pglite');
  const dataDir = target.dataDir ?? undefined;
  const pglite = options.briefRead
    ? briefReadPGlite(module, dataDir)
    : dataDir
      ? new module.PGlite(dataDir)
      : new module.PGlite();
  await pglite.waitReady;
  const query = async <T>(sql: string, params: unknown[] = []): Promise<T[]> =>
    (await pglite.query<T>(sql, params)).rows;
  const adapterFactory = async () => {
    const { PrismaPGlite } = await import('pglite-prisma-adapter');
    if (options.briefRead) await pglite.refreshArrayTypes();
    return new PrismaPGlite(pglite);
  };
  return lazyDatabase(
    target,
    adapterFactory,
    query,
    async () => {
      if (!pglite.closed) await pglite.close();
    },
    deferPrisma,
  );
}
