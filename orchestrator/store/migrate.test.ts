// Migrations: no drift from schema.prisma, applied offline by `esweep db migrate`, recorded as
// `prisma migrate deploy` records them (so either tool can continue), idempotent.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { openDatabase } from './database.ts';
import { loadMigrations, MIGRATIONS_DIR, migrate, migrationStatus, schemaDrift } from './migrate.ts';
import { adminQuery, urlFor } from './test-support.ts';

const run = promisify(execFile);
const cli = join(import.meta.dirname, '../../bin/esweep.js');

describe('migrations', () => {
  const name = `esweep_migrate_${randomBytes(4).toString('hex')}`;
  const url = urlFor(name);
  before(async () => {
    await adminQuery(`CREATE DATABASE "${name}"`);
  });
  after(async () => {
    await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });

  it('schema.prisma and the migrations do not drift', async () => {
    assert.equal(await schemaDrift(), '');
  });

  it('`esweep db diff --json` says so in one document', async () => {
    // Exit code 0: no drift (1 would reject the promise with the SQL on stdout).
    const diff = await run(process.execPath, [cli, 'db', 'diff', '--json']);
    assert.deepEqual(JSON.parse(diff.stdout), { drift: false, sql: '' });
  });

  it('`esweep db migrate` applies them offline, once, recorded like `prisma migrate deploy`', async () => {
    const first = JSON.parse(
      (await run(process.execPath, [cli, 'db', 'migrate', '--database', url, '--json'])).stdout,
    );
    const all = loadMigrations().migrationDirectories.map((d) => d.path);
    assert.ok(all.length >= 1, 'all.length >= 1');
    assert.deepEqual(first.applied, all);
    const db = await openDatabase(url);
    try {
      assert.deepEqual((await migrate(db)).applied, [], 'a second run applies nothing');
      const rows = await db.prisma.$queryRaw<
        { migration_name: string; checksum: string; finished_at: Date | null }[]
      >`
        SELECT migration_name, checksum, finished_at FROM _prisma_migrations ORDER BY migration_name`;
      assert.deepEqual(
        rows.map((r) => r.migration_name),
        all,
      );
      for (const row of rows) {
        const sql = readFileSync(join(MIGRATIONS_DIR, row.migration_name, 'migration.sql'));
        assert.equal(row.checksum, createHash('sha256').update(sql).digest('hex'));
        assert.ok(row.finished_at, 'row.finished_at');
      }
      assert.deepEqual(await migrationStatus(db), {
        hasMigrationsTable: true,
        pending: [],
        edited: [],
        failed: [],
      });
      for (const view of [
        'results_view',
        'sweep_progress_view',
        'attempts_view',
        'metric_curve_view',
        'layer_sparsity_view',
      ]) {
        await db.prisma.$queryRawUnsafe(`SELECT * FROM ${view} LIMIT 1`);
      }
    } finally {
      await db.close();
    }
  });

  it('names a bad database location in one line with exit code 2', async () => {
    const error = await run(process.execPath, [cli, 'db', 'migrate', '--database', 'mysql://x/y']).then(
      () => assert.fail('should fail'),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(error.code, 2);
    assert.match(error.stderr, /^esweep: database: 'mysql:\/\/x\/y'/);
    assert.equal(error.stderr.trim().split('\n').length, 1);
  });
});
