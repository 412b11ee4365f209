// Commands that work on the results database: open it (an embedded one is migrated on the way, it
// belongs to this user; a server only with --migrate), hand over its store, close it. Commands
// that only look at recorded data open an existing database and change nothing: no new database
// (a mistyped path must not become an empty one), no migration unless one is pending.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../common/errors.ts';
import {
  assertReachable,
  type Database,
  type DatabaseTarget,
  describeTarget,
  type OpenOptions,
  openDatabase,
  resolveDatabaseTarget,
} from '../store/database.ts';
import { migrate, pendingMigrations } from '../store/migrate.ts';
import { storeOf } from '../store/prisma-store.ts';
import type { Store } from '../store/store.ts';

export const databaseHelp = 'postgres://… URL or pglite:DIR; default $DATABASE_URL, else pglite:.esweep/db';

export interface AccessOptions {
  /** Open only a database that already exists (commands that create no data). */
  existing?: boolean;
  /**
   * The command reads through the Store's plain reads only (no Prisma client): Prisma stays unloaded
   * unless a migration needs its adapter, and an embedded database opens sized for a short read.
   */
  readOnly?: boolean;
}

function requireExisting(target: DatabaseTarget, where: string): void {
  if (target.kind === 'pglite' && target.dataDir && !existsSync(join(target.dataDir, 'PG_VERSION'))) {
    throw new InputError(`no database at ${where} (esweep run or esweep sweep submit creates one)`);
  }
}

/** Opens the database `--database` names (as it is: nothing migrated), runs `work`, closes it. */
export async function withDatabase<T>(
  location: string | undefined,
  work: (database: Database, where: string, embedded: boolean) => Promise<T>,
  open: OpenOptions = {},
  access: AccessOptions = {},
): Promise<T> {
  const target = resolveDatabaseTarget(location);
  const where = describeTarget(target);
  if (access.existing) requireExisting(target, where);
  const database = await openDatabase(target, open);
  try {
    await assertReachable(database, where);
    return await work(database, where, target.kind === 'pglite');
  } finally {
    await database.close();
  }
}

/**
 * {@link withDatabase}, migrated first if it is embedded or `--migrate` asks for it. With `existing`,
 * only a pending migration is applied, and a server that needs one is named as the problem.
 */
export function withMigratedDatabase<T>(
  options: { database?: string; migrate?: boolean },
  work: (database: Database, where: string) => Promise<T>,
  open: OpenOptions = {},
  access: AccessOptions = {},
): Promise<T> {
  return withDatabase(
    options.database,
    async (database, where, embedded) => {
      const wanted = options.migrate || embedded;
      if (!access.existing) {
        if (wanted) await migrate(database);
      } else {
        const pending = await pendingMigrations(database);
        if (pending.length > 0 && wanted) await migrate(database);
        else if (pending.length > 0) {
          // Only commands that read an existing database get here, and none of them takes --migrate.
          throw new InputError(
            `${where} lacks ${pending.length} migration(s) up to ${pending.at(-1)}: run esweep db migrate`,
          );
        }
      }
      return work(database, where);
    },
    open,
    access,
  );
}

export function withStore<T>(
  options: { database?: string; migrate?: boolean },
  work: (store: Store, where: string) => Promise<T>,
  access: AccessOptions = {},
): Promise<T> {
  const open = access.readOnly ? { deferPrisma: true, briefRead: true } : {};
  return withMigratedDatabase(options, (database, where) => work(storeOf(database), where), open, access);
}
