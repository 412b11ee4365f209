// The read-only sweep commands (status, results, compare) open the database for plain reads: Prisma
// stays unloaded and an embedded database opens sized for a short read. What must not change with
// that: a database lacking a migration is migrated (embedded) or named as the problem (a server), as
// before; and with the commands' modules loaded lazily, every command's --help still works.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BAD_INPUT_EXIT_CODE } from '../../common/errors.ts';
import { openDatabase } from '../store/database.ts';
import { loadMigrations, MIGRATIONS_DIR, migrate, pendingMigrations } from '../store/migrate.ts';
import { storeOf } from '../store/prisma-store.ts';
import { adminQuery, seedSweep, urlFor } from '../store/test-support.ts';
import { runCli } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'esweep-read-commands-'));
const migrations = loadMigrations().migrationDirectories.map((d) => d.path);
const last = migrations.at(-1)!;

/** prisma/migrations without its last migration: a database migrated from it lacks that one. */
function olderMigrations(): string {
  const older = join(dir, 'older-migrations');
  cpSync(MIGRATIONS_DIR, older, { recursive: true, filter: (path) => !path.includes(last) });
  return older;
}

/** Opens `location`, migrates it from `migrationsDir`, seeds a sweep named `name`. */
async function seedBehind(location: string, migrationsDir: string, name: string): Promise<void> {
  const db = await openDatabase(location);
  try {
    await migrate(db, migrationsDir);
    await seedSweep(storeOf(db), 4, name);
  } finally {
    await db.close();
  }
}

async function pending(location: string): Promise<string[]> {
  const db = await openDatabase(location, { deferPrisma: true });
  try {
    return await pendingMigrations(db);
  } finally {
    await db.close();
  }
}

describe('read-only sweep commands', () => {
  const server = `esweep_read_behind_${randomBytes(4).toString('hex')}`;
  before(() => adminQuery(`CREATE DATABASE "${server}"`));
  after(async () => {
    await adminQuery(`DROP DATABASE IF EXISTS "${server}" WITH (FORCE)`);
    rmSync(dir, { recursive: true, force: true });
  });

  test('an embedded database lacking a migration is migrated, then read', async () => {
    const location = `pglite:${join(dir, 'embedded-behind')}`;
    await seedBehind(location, olderMigrations(), 'behind');
    assert.deepEqual(await pending(location), [last]);
    for (const command of ['status', 'results', 'compare']) {
      const result = await runCli(['sweep', command, 'behind', '--json', '--database', location]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal((JSON.parse(result.stdout) as { sweep: { name: string } }).sweep.name, 'behind');
    }
    assert.deepEqual(await pending(location), []);
  });

  test('a server database lacking a migration is named as the problem, and left as it is', async () => {
    const location = urlFor(server);
    await seedBehind(location, olderMigrations(), 'behind');
    // cancel and retry open the database the same way: none of these commands takes --migrate, so
    // the remedy offered is esweep db migrate alone.
    for (const command of ['status', 'results', 'compare', 'cancel', 'retry']) {
      const result = await runCli(['sweep', command, 'behind', '--database', location]);
      assert.equal(result.code, BAD_INPUT_EXIT_CODE, result.stderr);
      assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
      assert.match(
        result.stderr,
        new RegExp(`lacks 1 migration\\(s\\) up to ${last}: run esweep db migrate$`, 'm'),
      );
      assert.doesNotMatch(result.stderr, /--migrate/, command);
    }
    assert.deepEqual(await pending(location), [last]);
  });

  test('the text status lists failed trials with their reason', async () => {
    const location = `pglite:${join(dir, 'failed')}`;
    const db = await openDatabase(location);
    try {
      await migrate(db);
      const store = storeOf(db);
      const { trialIds } = await seedSweep(store, 3, 'failing');
      await store.startAttempts([{ trialId: trialIds[1]!, attempts: 0, jobName: null }]);
      await store.markTrials([
        { trialId: trialIds[1]!, status: 'failed', error: 'exit code 1', retryable: false },
      ]);
    } finally {
      await db.close();
    }
    const result = await runCli(['sweep', 'status', 'failing', '--database', location]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /✗ k000001 \(attempt 1\): exit code 1/);
  });
});

/** The names under "Commands:" in a help text. */
const commandsIn = (help: string) =>
  [...(help.split(/^Commands:$/m)[1] ?? '').matchAll(/^ {2}([a-z][a-z-]*)/gm)]
    .map((m) => m[1]!)
    .filter((name) => name !== 'help');

test('every command and sweep sub-command answers --help', async () => {
  const top = await runCli(['--help']);
  assert.equal(top.code, 0, top.stderr);
  const commands = commandsIn(top.stdout);
  assert.ok(commands.includes('sweep') && commands.length >= 10, top.stdout);
  const sweep = await runCli(['sweep', '--help']);
  const subcommands = commandsIn(sweep.stdout);
  assert.deepEqual(
    ['status', 'results', 'compare', 'submit'].filter((c) => !subcommands.includes(c)),
    [],
    sweep.stdout,
  );
  const invocations = [...commands.map((c) => [c]), ...subcommands.map((c) => ['sweep', c])];
  for (const args of invocations) {
    const result = await runCli([...args, '--help']);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stdout, new RegExp(`^Usage: esweep ${args.join(' ')} `), args.join(' '));
  }
});
