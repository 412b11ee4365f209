// The CLI's cluster front door: `sweep submit --backend kubernetes`, `sweep status` and `sweep cancel`
// through Sweep objects and the user's kubeconfig (or a --cluster file), with no database settings.
// Kubernetes RBAC decides who may; the controller turns the object into trials.
import { setTimeout as sleep } from 'node:timers/promises';
import { InputError } from '../../common/errors.ts';
import { parseInput, parseYamlText, readInputText } from '../../common/validation.ts';
import {
  apiMessage,
  type SweepApiSettings,
  SweepClient,
  sweepApiSettingsSchema,
  sweepRequestError,
} from '../scheduler/kubernetes/sweep-client.ts';
import type { SweepPlan } from '../sweep/expand.ts';
import type { SweepObject } from '../sweep/resource.ts';
import type { ClusterOptions } from './cluster-route.ts';
import { formatCount, printJson, renderTable } from './output.ts';

/** The client for the Sweep objects: the settings file's server and namespace, or the kubeconfig. */
export async function sweepClient(options: ClusterOptions): Promise<SweepClient> {
  const file = options.cluster ?? process.env.ESWEEP_CLUSTER_CONFIG;
  let settings: SweepApiSettings = { skipTLSVerify: false };
  if (file) {
    const text = await readInputText(file, 'cluster settings');
    settings = parseInput(sweepApiSettingsSchema, parseYamlText(text, file) ?? {}, file);
  }
  if (options.namespace) settings = { ...settings, namespace: options.namespace };
  try {
    return new SweepClient(settings);
  } catch (error) {
    throw new InputError(
      `no cluster to talk to: ${apiMessage(error)} (give --cluster or set up a kubeconfig)`,
    );
  }
}

/** Object names are DNS subdomains: stricter than sweep names (no capitals, no '_'). */
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/;

/** Creates the Sweep object of a validated sweep file, or replaces its spec (resubmission). */
export async function submitObject(
  file: string,
  plan: SweepPlan,
  options: ClusterOptions & { json?: boolean },
): Promise<void> {
  const name = plan.spec.name;
  if (!OBJECT_NAME.test(name))
    throw new InputError(
      `${file}: name: '${name}' cannot name a Sweep object (lowercase letters, digits, '-' and '.')`,
    );
  // The spec is the file as written: the API server and the controller apply the defaults.
  const spec = parseYamlText(await readInputText(file, 'sweep file'), file);
  const client = await sweepClient(options);
  const result = await client.apply(name, spec).catch((error) => {
    throw sweepRequestError(error, `sweep ${name}`);
  });
  const out = {
    sweep: { name, namespace: client.namespace, uid: result.object.metadata.uid },
    created: result.created,
    trials: plan.trials.length,
  };
  if (options.json) return printJson(out);
  process.stdout.write(
    `sweep ${name} ${result.created ? 'created' : 'updated'} in namespace ${client.namespace}: ${formatCount(plan.trials.length)} trials; follow it with esweep sweep status ${name} (or kubectl get sweeps)\n`,
  );
}

async function getObject(client: SweepClient, name: string): Promise<SweepObject> {
  const object = await client.get(name).catch((error) => {
    throw sweepRequestError(error, `sweep ${name}`);
  });
  if (!object) throw new InputError(`no Sweep '${name}' in namespace ${client.namespace}`);
  return object;
}

const FINAL_PHASES = new Set<string>(['Completed', 'Failed', 'Cancelled', 'Invalid']);

/** The object's status in lines: phase and counts, conditions, the best result per pruner. */
export function objectStatusLines(object: SweepObject): string[] {
  const status = object.status;
  const head = `sweep ${object.metadata.name} (${object.metadata.namespace ?? ''}): ${status?.phase ?? 'not yet seen by the controller'}`;
  if (!status) return [head];
  const counts = status.counts;
  const lines = [
    counts ? `${head}, ${status.progress} done, ${counts.running} running, ${counts.failed} failed` : head,
  ];
  if (counts)
    lines.push(
      `  ${(['pending', 'queued', 'running', 'completed', 'failed', 'cancelled'] as const).map((s) => `${s} ${counts[s]}`).join(' · ')}`,
    );
  if (status.startedAt || status.finishedAt)
    lines.push(`  started ${status.startedAt ?? '—'} · finished ${status.finishedAt ?? '—'}`);
  for (const c of status.conditions ?? []) lines.push(`  ${c.type}: ${c.status} (${c.reason}) ${c.message}`);
  if (status.best?.length) {
    lines.push('best test accuracy over seeds, by target compression:');
    lines.push(
      renderTable(
        [
          { header: 'arch', align: 'left' },
          { header: 'pruner', align: 'left' },
          { header: 'type', align: 'left' },
          { header: 'compression' },
          { header: 'accuracy' },
          { header: 'seeds' },
        ],
        status.best.map((b) => [
          b.arch,
          b.pruner,
          b.type,
          b.compression.toFixed(2),
          b.accuracy.toFixed(4),
          String(b.seeds),
        ]),
      ).trimEnd(),
    );
  }
  return lines;
}

export async function objectStatus(
  name: string,
  options: ClusterOptions & { json?: boolean; watch?: boolean; interval: number },
): Promise<void> {
  const client = await sweepClient(options);
  const show = (object: SweepObject) =>
    options.json
      ? printJson({
          sweep: { name, namespace: client.namespace, uid: object.metadata.uid },
          status: object.status ?? null,
        })
      : process.stdout.write(`${objectStatusLines(object).join('\n')}\n`);
  let object = await getObject(client, name);
  show(object);
  if (!options.watch || options.json) return;
  let shown = JSON.stringify(object.status);
  while (!FINAL_PHASES.has(object.status?.phase ?? '')) {
    await sleep(options.interval * 1000);
    object = await getObject(client, name);
    if (JSON.stringify(object.status) === shown) continue;
    shown = JSON.stringify(object.status);
    show(object);
  }
}

/** Deletes the object: its finalizer has the controller cancel the trials and delete their Jobs. */
export async function cancelObject(
  name: string,
  options: ClusterOptions & { json?: boolean },
): Promise<void> {
  const client = await sweepClient(options);
  const object = await getObject(client, name);
  const deleted = await client.delete(name).catch((error) => {
    throw sweepRequestError(error, `sweep ${name}`);
  });
  const out = { sweep: { name, namespace: client.namespace, uid: object.metadata.uid }, deleted };
  if (options.json) return printJson(out);
  process.stdout.write(
    `sweep ${name}: deleted; the controller cancels its unfinished trials and their Jobs (results are kept)\n`,
  );
}
