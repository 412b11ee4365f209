// Applies prisma/migrations offline. The Prisma CLI's `migrate` needs its native schema engine (a
// download, impossible here), so we drive the same engine compiled to WebAssembly
// (@prisma/schema-engine-wasm) through the database's driver adapter. It records each migration in
// `_prisma_migrations` (name, sha256 checksum, timestamps) exactly as `prisma migrate deploy` does, so
// either tool can take over a database the other migrated.
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import type { MigrationList, SchemaEngine } from '@prisma/schema-engine-wasm';
import { PROJECT_ROOT } from '../project-root.ts';
import { type Database, openDatabase, pgConfig } from './database.ts';
import { loadSchemaEngine } from './schema-engine.ts';

const SCHEMA_PATH = join(PROJECT_ROOT, 'prisma/schema.prisma');
export const MIGRATIONS_DIR = join(PROJECT_ROOT, 'prisma/migrations');

const noFilter = { externalTables: [], externalEnums: [] };

/** Reads the migrations folder the way the Prisma CLI does (sorted directory names). */
export function loadMigrations(dir = MIGRATIONS_DIR): MigrationList {
  const lockPath = join(dir, 'migration_lock.toml');
  const names = existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
        .sort()
    : [];
  return {
    baseDir: dir,
    lockfile: {
      path: 'migration_lock.toml',
      content: existsSync(lockPath) ? readFileSync(lockPath, 'utf8') : null,
    },
    shadowDbInitScript: '',
    migrationDirectories: names.map((name) => {
      const file = join(dir, name, 'migration.sql');
      return {
        path: name,
        migrationFile: {
          path: 'migration.sql',
          content: existsSync(file)
            ? { tag: 'ok' as const, value: readFileSync(file, 'utf8') }
            : { tag: 'error' as const, value: `${file} is missing` },
        },
      };
    }),
  };
}

function schemaFiles(schemaPath = SCHEMA_PATH) {
  return [{ path: 'schema.prisma', content: readFileSync(schemaPath, 'utf8') }];
}

/**
 * The engine never disposes the connections it opens (freeing it leaves their pools, and the
 * migration advisory lock's session, alive), so we hand it a factory that remembers them and dispose
 * them ourselves. PGlite's adapter runs scripts without awaiting them (errors would escape as unhandled
 * rejections), so its `executeScript` is replaced by an awaited one.
 */
async function trackedFactory(db: Database) {
  const opened: SqlDriverAdapter[] = [];
  const base = await db.adapterFactory();
  const track = (adapter: SqlDriverAdapter): SqlDriverAdapter => {
    opened.push(adapter);
    if (db.target.kind === 'pglite') {
      const client = (adapter as unknown as { client: { exec(sql: string): Promise<unknown> } }).client;
      adapter.executeScript = async (script: string) => {
        await client.exec(script);
      };
    }
    return adapter;
  };
  // adapter-pg's own shadow database cannot be dropped (it drops it before closing its pool).
  const connectShadow = async (): Promise<SqlDriverAdapter> => {
    if (db.target.kind !== 'postgres') return base.connectToShadowDb();
    const name = `esweep_shadow_${randomUUID().replaceAll('-', '')}`;
    const admin = await base.connect();
    await admin.executeScript(`CREATE DATABASE "${name}"`);
    const { PrismaPg } = await import('@prisma/adapter-pg');
    const shadow = await new PrismaPg({ ...pgConfig(db.target.url), database: name, max: 2 }).connect();
    const closeShadow = shadow.dispose.bind(shadow);
    let disposed = false;
    shadow.dispose = async () => {
      if (disposed) return;
      disposed = true;
      await closeShadow();
      await admin.executeScript(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.dispose();
    };
    return shadow;
  };
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: base.provider,
    adapterName: base.adapterName,
    connect: async () => track(await base.connect()),
    connectToShadowDb: async () => track(await connectShadow()),
  };
  const disposeAll = async () => {
    for (const adapter of opened.splice(0).reverse()) {
      await adapter.dispose().catch(() => {});
    }
  };
  return { factory, disposeAll };
}

async function withEngine<T>(db: Database, use: (engine: SchemaEngine) => Promise<T>): Promise<T> {
  const SchemaEngineClass = await loadSchemaEngine();
  const files = schemaFiles();
  const { factory, disposeAll } = await trackedFactory(db);
  const engine = await SchemaEngineClass.new(
    { datamodels: files.map((f) => [f.path, f.content] as [string, string]) },
    () => {},
    bindMigrationAwareSqlAdapterFactory(factory),
  );
  try {
    return await use(engine);
  } finally {
    engine.free();
    await disposeAll();
  }
}

export interface MigrateResult {
  /** Migrations applied by this call, in order (empty when the database was up to date). */
  applied: string[];
  /** Every migration in the folder. */
  migrations: string[];
}

/** Applies every pending migration (idempotent; safe to run on every start). */
export async function migrate(db: Database, dir = MIGRATIONS_DIR): Promise<MigrateResult> {
  const migrationsList = loadMigrations(dir);
  const { appliedMigrationNames } = await withEngine(db, (engine) =>
    engine.applyMigrations({ migrationsList, filters: noFilter }),
  );
  return {
    applied: appliedMigrationNames,
    migrations: migrationsList.migrationDirectories.map((d) => d.path),
  };
}

export interface MigrationStatus {
  hasMigrationsTable: boolean;
  /** Migrations in the folder that the database has not applied (what `migrate deploy` would run). */
  pending: string[];
  /** Applied migrations whose file changed since. */
  edited: string[];
  failed: string[];
}

/** What `prisma migrate status` reports, from the same engine call. */
export async function migrationStatus(db: Database, dir = MIGRATIONS_DIR): Promise<MigrationStatus> {
  const migrationsList = loadMigrations(dir);
  const out = await withEngine(db, (engine) =>
    engine.diagnoseMigrationHistory({ migrationsList, optInToShadowDatabase: false, filters: noFilter }),
  );
  const history = out.history;
  return {
    hasMigrationsTable: out.hasMigrationsTable,
    pending:
      history?.diagnostic === 'databaseIsBehind' || history?.diagnostic === 'historiesDiverge'
        ? history.unappliedMigrationNames
        : [],
    edited: out.editedMigrationNames,
    failed: out.failedMigrationNames,
  };
}

/**
 * The SQL that would bring a database built from the migrations to `schema.prisma` (empty string =
 * no drift). The engine replays the migrations on a shadow database and describes it; this runs on an
 * in-memory PGlite (PostgreSQL 17), because adapter-pg cannot read the `"char"` columns of the system
 * catalogs that describing a live PostgreSQL schema needs.
 */
export async function schemaDrift(dir = MIGRATIONS_DIR): Promise<string> {
  const migrationsList = loadMigrations(dir);
  const db = await openDatabase({ kind: 'pglite', dataDir: null });
  try {
    const out = await withEngine(db, (engine) =>
      engine.diff({
        from: { tag: 'migrations', ...migrationsList },
        to: { tag: 'schemaDatamodel', files: schemaFiles() },
        script: true,
        exitCode: null,
        filters: noFilter,
      }),
    );
    const script = (out.stdout ?? '').trim();
    return script === '-- This is an empty migration.' ? '' : script;
  } finally {
    await db.close();
  }
}

/**
 * Migrations in the folder that the database has not applied, read from `_prisma_migrations`
 * directly: asking the schema engine costs seconds (and keeps the process alive ten more).
 */
export async function pendingMigrations(database: Database): Promise<string[]> {
  const names = loadMigrations().migrationDirectories.map((d) => d.path);
  let applied: { migration_name: string }[] = [];
  try {
    applied = await database.query<{ migration_name: string }>(
      'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
    );
  } catch {
    // No migrations table: nothing applied yet.
  }
  const done = new Set(applied.map((row) => row.migration_name));
  return names.filter((name) => !done.has(name));
}
