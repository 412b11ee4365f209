import type { Command } from 'commander';
import { printJson } from '../output.ts';

// The database modules (Prisma, PGlite, the schema engine) load only when a db command runs.
const loadDb = async () => ({
  ...(await import('../../db/client.ts')),
  ...(await import('../../db/migrate.ts')),
});

const databaseHelp =
  'postgres://… URL or embedded directory (pglite:DIR); default $DATABASE_URL, else pglite:.esweep/db';

export function register(program: Command): void {
  const db = program.command('db').description('the results database');

  db.command('migrate')
    .description('apply pending migrations (offline; recorded as `prisma migrate deploy` does)')
    .option('--database <location>', databaseHelp)
    .option('--json', 'print one JSON document')
    .action(async (options: { database?: string; json?: boolean }) => {
      const { describeTarget, migrate, openDatabase, resolveDatabaseTarget } = await loadDb();
      const target = resolveDatabaseTarget(options.database);
      const database = await openDatabase(target);
      try {
        const result = await migrate(database);
        const out = {
          database: describeTarget(target),
          applied: result.applied,
          migrations: result.migrations,
        };
        if (options.json) printJson(out);
        else {
          process.stdout.write(
            result.applied.length === 0
              ? `${out.database}: up to date (${result.migrations.length} migrations)\n`
              : `${out.database}: applied ${result.applied.join(', ')}\n`,
          );
        }
      } finally {
        await database.close();
      }
    });

  db.command('status')
    .description('migrations the database has not applied (what `prisma migrate status` reports)')
    .option('--database <location>', databaseHelp)
    .option('--json', 'print one JSON document')
    .action(async (options: { database?: string; json?: boolean }) => {
      const { describeTarget, migrationStatus, openDatabase, resolveDatabaseTarget } = await loadDb();
      const target = resolveDatabaseTarget(options.database);
      const database = await openDatabase(target);
      try {
        const status = await migrationStatus(database);
        if (options.json) printJson({ database: describeTarget(target), ...status });
        else {
          process.stdout.write(
            status.pending.length === 0 && status.failed.length === 0 && status.edited.length === 0
              ? `${describeTarget(target)}: up to date\n`
              : `${describeTarget(target)}: pending ${status.pending.join(', ') || '-'}; failed ${status.failed.join(', ') || '-'}; edited ${status.edited.join(', ') || '-'}\n`,
          );
        }
        if (status.pending.length > 0 || status.failed.length > 0) process.exitCode = 1;
      } finally {
        await database.close();
      }
    });

  db.command('diff')
    .description(
      'SQL that schema.prisma needs beyond the migrations (empty = no drift; for writing a new migration)',
    )
    .action(async () => {
      const { schemaDrift } = await loadDb();
      const sql = await schemaDrift();
      process.stdout.write(sql ? `${sql}\n` : '');
      if (sql) process.exitCode = 1;
    });
}
