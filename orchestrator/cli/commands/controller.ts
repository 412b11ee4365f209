import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { z } from 'zod';
import { campaign, leaderLogEntry } from '../../controller/campaign.ts';
import { Controller } from '../../controller/controller.ts';
import { KubernetesLeaseClient } from '../../controller/kubernetes-lease.ts';
import { LEADER_DEFAULTS, LeaderElector } from '../../controller/leader.ts';
import { serveMetrics } from '../../controller/metrics.ts';
import { SweepResources } from '../../controller/sweep-resources.ts';
import type { SchedulerBackend } from '../../scheduler/backend.ts';
import { KubernetesBackend, kubeConfigFor } from '../../scheduler/kubernetes/backend.ts';
import { dnsLabel, loadKubernetesConfig } from '../../scheduler/kubernetes/config.ts';
import { SweepClient } from '../../scheduler/kubernetes/sweep-client.ts';
import { LocalBackend } from '../../scheduler/local/backend.ts';
import { storeOf } from '../../store/prisma-store.ts';
import { databaseHelp, withMigratedDatabase } from '../database.ts';
import { numberIn, parseOptions } from '../options.ts';

const wholeNumber = numberIn('must be a whole number', (n) => Number.isInteger(n) && n >= 0);
const port = numberIn('must be a port number (0–65535)', (n) => Number.isInteger(n) && n >= 0 && n <= 65535);

const seconds = numberIn('must be a number of seconds > 0', (n) => n > 0 && n <= 3600);

const schema = z
  .object({
    backend: z.enum(['kubernetes', 'local'], { error: (i) => `unknown backend '${String(i.input)}'` }),
    cluster: z.string().optional(),
    database: z.string().optional(),
    migrate: z.boolean().optional(),
    metricsPort: port,
    heartbeatTimeout: wholeNumber,
    retryBackoff: wholeNumber,
    identity: z
      .string()
      .trim()
      .min(1, { error: 'must not be empty' })
      .max(128)
      .regex(/^[\x21-\x7e]+$/, { error: 'must be printable ASCII without spaces' }),
    leaderElect: z.boolean(),
    leaseName: dnsLabel,
    leaseDuration: seconds,
    renewDeadline: seconds,
    retryPeriod: seconds,
  })
  .superRefine((o, ctx) => {
    // The fence must fall before the lease can expire elsewhere, and a renewal must fit in the deadline.
    if (o.renewDeadline >= o.leaseDuration)
      ctx.addIssue({
        code: 'custom',
        path: ['renewDeadline'],
        message: `must be less than --lease-duration (${o.leaseDuration}), got ${o.renewDeadline}`,
      });
    else if (o.retryPeriod >= o.renewDeadline)
      ctx.addIssue({
        code: 'custom',
        path: ['retryPeriod'],
        message: `must be less than --renew-deadline (${o.renewDeadline}), got ${o.retryPeriod}`,
      });
  });

const defaultSeconds = (ms: number) => String(ms / 1000);

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
    .option(
      '--identity <name>',
      'this replica in the lease and the logs (default $POD_NAME, else the host name)',
    )
    .option(
      '--no-leader-elect',
      'act without leader election (only one controller may run; always so for local)',
    )
    .option(
      '--lease-name <name>',
      'the Lease (in the cluster namespace) replicas elect a leader on',
      'esweep-controller',
    )
    .option(
      '--lease-duration <s>',
      'a candidate takes over a lease not renewed for this long',
      defaultSeconds(LEADER_DEFAULTS.leaseDurationMs),
    )
    .option(
      '--renew-deadline <s>',
      'the leader stops acting when it has not renewed for this long (< lease duration)',
      defaultSeconds(LEADER_DEFAULTS.renewDeadlineMs),
    )
    .option(
      '--retry-period <s>',
      'how often the leader renews and candidates try (< renew deadline)',
      defaultSeconds(LEADER_DEFAULTS.retryPeriodMs),
    )
    .action(async (raw: { identity?: string }) => {
      const options = parseOptions(schema, {
        ...raw,
        identity: raw.identity ?? process.env.POD_NAME ?? hostname(),
      });
      const { identity } = options;
      const log = (entry: Record<string, unknown>) =>
        process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), identity, ...entry })}\n`);
      const userAgent = `esweep-controller/${identity}`;
      // Aborted when this replica loses the lead: every Kubernetes call still in flight is abandoned.
      const fence = new AbortController();
      // Every Kubernetes call in flight listens on it (createConcurrency of them and the informers).
      setMaxListeners(256, fence.signal);
      let elector: LeaderElector | undefined;
      let sweepObjects: SweepClient | null = null;
      let backend: SchedulerBackend;
      if (options.backend === 'local') backend = new LocalBackend();
      else {
        const config = await loadKubernetesConfig(
          options.cluster ?? process.env.ESWEEP_CLUSTER_CONFIG ?? 'esweep-cluster.yaml',
        );
        const kubeConfig = kubeConfigFor(config);
        const onError = (error: unknown) =>
          log({ level: 'warn', msg: 'informer error', error: String(error) });
        backend = new KubernetesBackend(
          config,
          { onError, log, userAgent, signal: fence.signal },
          kubeConfig,
        );
        // Sweep objects (esweep.dev) of the cluster's namespace: expanded into the database, status kept.
        sweepObjects = new SweepClient(config, { onError });
        if (options.leaderElect) {
          const lease = { namespace: config.namespace, name: options.leaseName, userAgent };
          elector = new LeaderElector({
            identity,
            client: new KubernetesLeaseClient(kubeConfig, lease),
            leaseDurationMs: options.leaseDuration * 1000,
            renewDeadlineMs: options.renewDeadline * 1000,
            retryPeriodMs: options.retryPeriod * 1000,
            log: (event) => log(leaderLogEntry(event, `${config.namespace}/${options.leaseName}`)),
          });
        }
      }
      const stop = new AbortController();
      process.once('SIGTERM', () => stop.abort());
      process.once('SIGINT', () => stop.abort());
      await withMigratedDatabase(options, async (database, where) => {
        const controller = new Controller(storeOf(database), backend, {
          heartbeatTimeoutMs: options.heartbeatTimeout * 1000,
          retryBaseMs: options.retryBackoff * 1000,
          log,
          mayAct: elector ? () => elector.isLeader() : undefined,
        });
        const server = await serveMetrics(controller.metrics, options.metricsPort);
        const sweepResources = sweepObjects
          ? new SweepResources(sweepObjects, storeOf(database), backend, { log })
          : null;
        log({
          level: 'info',
          msg: 'controller started',
          backend: backend.name,
          database: where,
          metricsPort: server.port,
          leaderElection: elector ? { lease: options.leaseName, ...elector.timing() } : false,
        });
        let end = 'stopped';
        if (elector)
          end = await campaign({
            elector,
            controller,
            companions: sweepResources ? [sweepResources] : [],
            fence,
            stop: stop.signal,
            log,
          });
        else {
          await controller.start();
          await sweepResources?.start();
          if (!stop.signal.aborted)
            await new Promise((resolve) => stop.signal.addEventListener('abort', resolve, { once: true }));
          await sweepResources?.stop();
          await controller.stop();
        }
        await sweepObjects?.close();
        if (end === 'lost') {
          log({ level: 'error', msg: 'exiting: lost the lead; restarted, this replica campaigns again' });
          process.exit(1);
        }
        await backend.close();
        server.close();
      });
    });
}
