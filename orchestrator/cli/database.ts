// Commands that work on the results database: open it (an embedded one is migrated on the way, it
// belongs to this user; a server only with --migrate), hand over repositories, close it.
import { describeTarget, openDatabase, resolveDatabaseTarget } from '../db/client.ts';
import { migrate } from '../db/migrate.ts';
import { Repositories } from '../db/repositories.ts';

export const databaseHelp = 'postgres://… URL or pglite:DIR; default $DATABASE_URL, else pglite:.esweep/db';

export async function withRepositories<T>(
  options: { database?: string; migrate?: boolean },
  work: (repos: Repositories, where: string) => Promise<T>,
): Promise<T> {
  const target = resolveDatabaseTarget(options.database);
  const database = await openDatabase(target);
  try {
    if (options.migrate || target.kind === 'pglite') await migrate(database);
    return await work(new Repositories(database.prisma), describeTarget(target));
  } finally {
    await database.close();
  }
}
