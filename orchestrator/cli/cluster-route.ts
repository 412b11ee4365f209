// Whether a sweep command goes to the cluster (Sweep objects) or to a database: decided before any
// client is loaded, so that the database commands do not pay for loading the Kubernetes client.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { resolveDatabaseTarget } from '../store/database.ts';

export interface ClusterOptions {
  cluster?: string;
  namespace?: string;
  database?: string;
}

export const clusterOptionHelp =
  'kubernetes settings (YAML: server, namespace, …); default $ESWEEP_CLUSTER_CONFIG, else the kubeconfig';
export const namespaceHelp =
  'namespace of the Sweep objects (default: the settings, else the kubeconfig context)';

const databaseGiven = (options: ClusterOptions) => Boolean(options.database || process.env.DATABASE_URL);

/** `sweep submit --backend kubernetes` goes to the cluster unless a database is named. */
export const submitsToCluster = (options: ClusterOptions) => !databaseGiven(options);

/**
 * `sweep status|cancel` read the Sweep object when no database is named and either cluster settings
 * are given or there is no embedded database here (which `esweep run` would have made).
 */
export function readsFromCluster(options: ClusterOptions): boolean {
  if (databaseGiven(options)) return false;
  if (options.cluster || process.env.ESWEEP_CLUSTER_CONFIG) return true;
  const target = resolveDatabaseTarget(undefined);
  return !(target.kind === 'pglite' && target.dataDir && existsSync(join(target.dataDir, 'PG_VERSION')));
}
