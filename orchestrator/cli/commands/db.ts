import type { Command } from 'commander';
import { migrate, migrationStatus, schemaDrift } from '../../store/migrate.ts';
import { databaseHelp, withDatabase } from '../database.ts';
import { printJson } from '../output.ts';

export function register(program: Command): void {
  const db = program.command('db').description('the results database');

  db.command('migrate')
    .description('apply pending migrations (offline; recorded as `prisma migrate deploy` does)')
    .option('--database <location>', databaseHelp)
    .option('--json', 'print one JSON document')
    .action((options: { database?: string; json?: boolean }) =>
      withDatabase(options.database, async (database, where) => {
        const result = await migrate(database);
        if (options.json)
          return printJson({ database: where, applied: result.applied, migrations: result.migrations });
        process.stdout.write(
          result.applied.length === 0
            ? `${where}: up to date (${result.migrations.length} migrations)\n`
            : `${where}: applied ${result.applied.join(', ')}\n`,
        );
      }),
    );

  db.command('status')
    .description('migrations the database has not applied (what `prisma migrate status` reports)')
    .option('--database <location>', databaseHelp)
    .option('--json', 'print one JSON document')
    .action((options: { database?: string; json?: boolean }) =>
      withDatabase(
        options.database,
        async (database, where) => {
          const status = await migrationStatus(database);
          if (status.pending.length > 0 || status.failed.length > 0) process.exitCode = 1;
          if (options.json) return printJson({ database: where, ...status });
          const clean =
            status.pending.length === 0 && status.failed.length === 0 && status.edited.length === 0;
          const list = (names: string[]) => names.join(', ') || '-';
          process.stdout.write(
            clean
              ? `${where}: up to date\n`
              : `${where}: pending ${list(status.pending)}; failed ${list(status.failed)}; edited ${list(status.edited)}\n`,
          );
        },
        {},
        { existing: true },
      ),
    );

  db.command('diff')
    .description(
      'SQL that schema.prisma needs beyond the migrations (empty = no drift; for writing a new migration)',
    )
    .option('--json', 'print one JSON document')
    .action(async (options: { json?: boolean }) => {
      const sql = await schemaDrift();
      if (sql) process.exitCode = 1;
      if (options.json) return printJson({ drift: sql !== '', sql });
      process.stdout.write(sql ? `${sql}\n` : '');
    });
}
