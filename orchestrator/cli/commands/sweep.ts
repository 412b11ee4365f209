import type { Command } from 'commander';
import { z } from 'zod';
import type { dryRun } from '../../scheduler/dry-run.ts';
import type { KubernetesConfig } from '../../scheduler/kubernetes/config.ts';
import { namespaceHelp, submitsToCluster } from '../cluster-route.ts';
import { databaseHelp, withStore } from '../database.ts';
import { parseOptions } from '../options.ts';
import { formatCount, printJson, renderTable } from '../output.ts';
import { registerSweepManagement } from './sweep-manage.ts';

const clusterHelp =
  'kubernetes settings (YAML: server, namespace, …); default $ESWEEP_CLUSTER_CONFIG, else the kubeconfig';

const submitSchema = z.object({
  backend: z.enum(['kubernetes', 'local'], {
    error: (i) => `unknown backend '${String(i.input)}' (expected kubernetes or local)`,
  }),
  dryRun: z.boolean().optional(),
  json: z.boolean().optional(),
  force: z.boolean().optional(),
  cluster: z.string().optional(),
  namespace: z.string().optional(),
  database: z.string().optional(),
  migrate: z.boolean().optional(),
});

/**
 * The backend settings for a dry run: the given file, else a placeholder image so that the Jobs
 * can still be shown.
 */
async function clusterConfig(path: string | undefined): Promise<KubernetesConfig> {
  const { loadKubernetesConfig, parseKubernetesConfig } = await import(
    '../../scheduler/kubernetes/config.ts'
  );
  const file = path ?? process.env.ESWEEP_CLUSTER_CONFIG;
  if (file) return loadKubernetesConfig(file);
  return parseKubernetesConfig({ image: process.env.ESWEEP_WORKER_IMAGE ?? 'esweep-worker:latest' });
}

export function register(program: Command): void {
  const sweep = program
    .command('sweep')
    .description('submit and manage sweeps (pruner × architecture × target × seed)');

  sweep
    .command('submit')
    .description(
      'expand a sweep file into trials (resubmitting adds only new trials): with --backend kubernetes and no database, as a Sweep object on the cluster',
    )
    .argument('<file>', 'sweep file (YAML)')
    .option('--backend <name>', 'kubernetes | local', 'kubernetes')
    .option('--dry-run', 'print the trials (and Jobs) it would create; write nothing')
    .option('--force', 'allow a grid above the 20,000-trial limit')
    .option('--cluster <file>', clusterHelp)
    .option('--namespace <name>', namespaceHelp)
    .option('--database <location>', `${databaseHelp} (records the sweep directly, not as a Sweep object)`)
    .option('--migrate', 'apply pending database migrations first')
    .option('--json', 'print one JSON document')
    .action(async (file: string, raw: object) => {
      const options = parseOptions(submitSchema, raw);
      // Loaded here, not with the module: the sweep file's schema, the Kubernetes client and NATS
      // credentials are seconds of start-up that the other sweep commands do not need.
      const [{ loadSweep }, { dryRun }, { submitPlan }, { submitObject }] = await Promise.all([
        import('../../sweep/load.ts'),
        import('../../scheduler/dry-run.ts'),
        import('../../store/plan-records.ts'),
        import('../sweep-cluster.ts'),
      ]);
      const plan = await loadSweep(file, { force: options.force });
      if (options.dryRun) {
        const config = options.backend === 'kubernetes' ? await clusterConfig(options.cluster) : null;
        const document = dryRun(plan, config);
        if (options.json) return printJson(document);
        return printPlan(document.trials);
      }
      if (options.backend === 'kubernetes' && submitsToCluster(options))
        return submitObject(file, plan, options);
      const result = await withStore(options, async (repos, where) => ({
        where,
        ...(await submitPlan(repos, plan, options.backend)),
      }));
      const out = {
        sweep: { id: result.sweep.id, name: result.sweep.name, backend: result.sweep.backend },
        database: result.where,
        created: result.created,
        addedTrials: result.addedTrials,
        totalTrials: result.totalTrials,
      };
      if (options.json) return printJson(out);
      process.stdout.write(
        `sweep ${out.sweep.name} (${out.sweep.id}): ${formatCount(out.totalTrials)} trials, ${formatCount(out.addedTrials)} new${out.created ? '' : ' (resubmitted)'}\n`,
      );
    });

  registerSweepManagement(sweep);
}

function printPlan(trials: ReturnType<typeof dryRun>['trials']): void {
  process.stdout.write(
    renderTable(
      [
        { header: 'key', align: 'left' },
        { header: 'arch', align: 'left' },
        { header: 'pruner', align: 'left' },
        { header: 'type', align: 'left' },
        { header: 'compression' },
        { header: 'seed' },
        { header: 'after', align: 'left' },
      ],
      trials.map((t) => [
        t.key,
        String(t.arch),
        String(t.pruner),
        String(t.type),
        Number(t.targetCompression).toFixed(2),
        String(t.seed),
        t.dependsOn ?? '',
      ]),
    ),
  );
  process.stdout.write(`${formatCount(trials.length)} trials\n`);
}
