import type { Command } from 'commander';
import { z } from 'zod';
import { Controller } from '../../controller/controller.ts';
import { serveMetrics } from '../../controller/metrics.ts';
import { SweepResources } from '../../controller/sweep-resources.ts';
import type { SchedulerBackend } from '../../scheduler/backend.ts';
import { KubernetesBackend } from '../../scheduler/kubernetes/backend.ts';
import { loadKubernetesConfig } from '../../scheduler/kubernetes/config.ts';
import { SweepClient } from '../../scheduler/kubernetes/sweep-client.ts';
import { LocalBackend } from '../../scheduler/local/backend.ts';
import { storeOf } from '../../store/prisma-store.ts';
import { databaseHelp, withMigratedDatabase } from '../database.ts';
import { numberIn, parseOptions } from '../options.ts';

const wholeNumber = numberIn('must be a whole number', (n) => Number.isInteger(n) && n >= 0);
const port = numberIn('must be a port number (0–65535)', (n) => Number.isInteger(n) && n >= 0 && n <= 65535);

const schema = z.object({
  backend: z.enum(['kubernetes', 'local'], { error: (i) => `unknown backend '${String(i.input)}'` }),
  cluster: z.string().optional(),
  database: z.string().optional(),
  migrate: z.boolean().optional(),
  metricsPort: port,
  heartbeatTimeout: wholeNumber,
  retryBackoff: wholeNumber,
});

export function register(program: Command): void {
  program
    .command('controller')
    .description('reconcile sweeps in the database with runs on the backend (runs until SIGTERM)')
    .option('--backend <name>', 'kubernetes | local', 'kubernetes')
    .option('--cluster <file>', 'kubernetes backend settings (YAML); default $ESWEEP_CLUSTER_CONFIG')
    .option('--database <location>', databaseHelp)
    .option('--migrate', 'apply pending migrations first (an embedded database always is)')
    .option('--metrics-port <port>', 'port of /healthz, /readyz and /metrics (0 = any)', '9464')
    .option('--heartbeat-timeout <s>', 'replace a running trial silent for this long', '600')
    .option('--retry-backoff <s>', 'delay before the first retry (doubles each time, at most 10 min)', '10')
    .action(async (raw: object) => {
      const options = parseOptions(schema, raw);
      const log = (entry: Record<string, unknown>) =>
        process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
      const onError = (error: unknown) => log({ level: 'warn', msg: 'informer error', error: String(error) });
      const cluster =
        options.backend === 'kubernetes'
          ? await loadKubernetesConfig(
              options.cluster ?? process.env.ESWEEP_CLUSTER_CONFIG ?? 'esweep-cluster.yaml',
            )
          : null;
      const backend: SchedulerBackend = cluster
        ? new KubernetesBackend(cluster, { onError })
        : new LocalBackend();
      await withMigratedDatabase(options, async (database, where) => {
        const controller = new Controller(storeOf(database), backend, {
          heartbeatTimeoutMs: options.heartbeatTimeout * 1000,
          retryBaseMs: options.retryBackoff * 1000,
          log,
        });
        const server = await serveMetrics(controller.metrics, options.metricsPort);
        await controller.start();
        // Sweep objects (esweep.dev) of the cluster's namespace: expanded into the database, status kept.
        const sweepObjects = cluster ? new SweepClient(cluster, { onError }) : null;
        const sweepResources = sweepObjects
          ? new SweepResources(sweepObjects, storeOf(database), backend, { log })
          : null;
        await sweepResources?.start();
        log({
          level: 'info',
          msg: 'controller started',
          backend: backend.name,
          database: where,
          metricsPort: server.port,
        });
        await new Promise<void>((resolve) => {
          process.once('SIGTERM', resolve);
          process.once('SIGINT', resolve);
        });
        await sweepResources?.stop();
        await sweepObjects?.close();
        await controller.stop();
        await backend.close();
        server.close();
      });
    });
}
