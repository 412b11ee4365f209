// Commands that work on the results database: open it (an embedded one is migrated on the way, it
// belongs to this user; a server only with --migrate), hand over its store, close it.
import {
  type Database,
  describeTarget,
  type OpenOptions,
  openDatabase,
  resolveDatabaseTarget,
} from '../store/database.ts';
import { migrate } from '../store/migrate.ts';
import { storeOf } from '../store/prisma-store.ts';
import type { Store } from '../store/store.ts';

export const databaseHelp = 'postgres://… URL or pglite:DIR; default $DATABASE_URL, else pglite:.esweep/db';

/** Opens the database `--database` names (as it is: nothing migrated), runs `work`, closes it. */
export async function withDatabase<T>(
  location: string | undefined,
  work: (database: Database, where: string, embedded: boolean) => Promise<T>,
  open: OpenOptions = {},
): Promise<T> {
  const target = resolveDatabaseTarget(location);
  const database = await openDatabase(target, open);
  try {
    return await work(database, describeTarget(target), target.kind === 'pglite');
  } finally {
    await database.close();
  }
}

/** {@link withDatabase}, migrated first if it is embedded or `--migrate` asks for it. */
export function withMigratedDatabase<T>(
  options: { database?: string; migrate?: boolean },
  work: (database: Database, where: string) => Promise<T>,
  open: OpenOptions = {},
): Promise<T> {
  return withDatabase(
    options.database,
    async (database, where, embedded) => {
      if (options.migrate || embedded) await migrate(database);
      return work(database, where);
    },
    open,
  );
}

export function withStore<T>(
  options: { database?: string; migrate?: boolean },
  work: (store: Store, where: string) => Promise<T>,
): Promise<T> {
  return withMigratedDatabase(options, (database, where) => work(storeOf(database), where));
}
