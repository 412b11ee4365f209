// The kubernetes backend: a batch/v1 Job per trial attempt, observed through an informer (list +
// watch, re-list on 410 Gone) on the Jobs this program labelled.
import http from 'node:http';
import https from 'node:https';
import {
  ApiException,
  BatchV1Api,
  createConfiguration,
  KubeConfig,
  ListWatch,
  type RequestContext,
  type SecurityAuthentication,
  ServerConfiguration,
  type V1Job,
  Watch,
} from '@kubernetes/client-node';
import { BAD_INPUT_EXIT_CODE } from '../../../common/errors.ts';
import type { RunPhase, RunRequest, RunStatus, SchedulerBackend } from '../backend.ts';
import type { KubernetesConfig } from './config.ts';
import { jobManifest, LABELS, MANAGED_SELECTOR } from './manifest.ts';

/** A client configuration from the settings: an explicit server, else the usual kubeconfig. */
export function kubeConfigFor(
  config: Pick<KubernetesConfig, 'server' | 'skipTLSVerify' | 'namespace'>,
): KubeConfig {
  const kc = new KubeConfig();
  if (!config.server) {
    kc.loadFromDefault();
    return kc;
  }
  kc.loadFromOptions({
    clusters: [{ name: 'esweep', server: config.server, skipTLSVerify: config.skipTLSVerify }],
    users: [{ name: 'esweep' }],
    contexts: [{ name: 'esweep', cluster: 'esweep', user: 'esweep', namespace: config.namespace }],
    currentContext: 'esweep',
  });
  return kc;
}

const isTrue = (job: V1Job, type: string) =>
  job.status?.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
const conditionOf = (job: V1Job, type: string) => job.status?.conditions?.find((c) => c.type === type);

/**
 * A Job cut down to what {@link runStatusOf} reads (name, labels, suspend, active, conditions). The
 * informer caches every Job of every sweep; whole Jobs (pod template, environment, the
 * TrialSpec) would be most of the controller's memory at the paper's scale.
 */
export function slimJob(job: V1Job): V1Job {
  const { name, namespace, labels, resourceVersion } = job.metadata ?? {};
  return {
    metadata: { name, namespace, labels, resourceVersion },
    spec: { suspend: job.spec?.suspend } as V1Job['spec'],
    status: {
      active: job.status?.active,
      conditions: job.status?.conditions?.map(({ type, status, reason, message }) => ({
        type,
        status,
        reason,
        message,
      })),
    },
  };
}

/**
 * The kubeconfig's authentication with one keep-alive agent: client-node 1.x makes a new Agent, and so
 * a new TCP (and TLS) connection, for every request. Headers (tokens) are still applied per request;
 * the agent is rebuilt when its TLS options change (rotated client certificates). Proxy agents are
 * left as they are.
 */
class KeepAliveAuthentication implements SecurityAuthentication {
  private agent: http.Agent | undefined;
  private agentKey = '';

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly perRequest: Pick<KubernetesBackendOptions, 'userAgent' | 'signal'> = {},
  ) {}

  getName(): string {
    return 'kubeconfig (keep-alive)';
  }

  async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await this.kubeConfig.applySecurityAuthentication(context);
    if (this.perRequest.userAgent) context.setHeaderParam('User-Agent', this.perRequest.userAgent);
    if (this.perRequest.signal) context.setSignal(this.perRequest.signal);
    const made = context.getAgent();
    if (!made || (made.constructor !== http.Agent && made.constructor !== https.Agent)) return;
    const options = (made as http.Agent & { options: https.AgentOptions }).options;
    const key = JSON.stringify([made.constructor === https.Agent, options]);
    if (key !== this.agentKey) {
      this.agent?.destroy();
      const shared = { ...options, keepAlive: true };
      this.agent = made.constructor === https.Agent ? new https.Agent(shared) : new http.Agent(shared);
      this.agentKey = key;
    }
    context.setAgent(this.agent!);
  }

  close(): void {
    this.agent?.destroy();
  }
}

/** What the controller needs to know of a Job: its phase and, for a failure, whether it was bad input. */
export function runStatusOf(job: V1Job): RunStatus | null {
  const labels = job.metadata?.labels ?? {};
  const sweepId = labels[LABELS.sweepId];
  const trialId = labels[LABELS.trialId];
  const attempt = Number(labels[LABELS.attempt]);
  if (!job.metadata?.name || !sweepId || !trialId || !Number.isInteger(attempt)) return null;
  // FailureTarget / SuccessCriteriaMet come first on recent clusters; Failed / Complete follow.
  const failed = conditionOf(job, 'Failed') ?? conditionOf(job, 'FailureTarget');
  let phase: RunPhase = 'pending';
  if (isTrue(job, 'Complete') || isTrue(job, 'SuccessCriteriaMet')) phase = 'succeeded';
  else if (failed?.status === 'True') phase = 'failed';
  else if ((job.status?.active ?? 0) > 0 && !job.spec?.suspend) phase = 'running';
  const status: RunStatus = { name: job.metadata.name, sweepId, trialId, attempt, phase, badInput: false };
  if (phase === 'failed') {
    // Our only FailJob rule is the bad-input exit code.
    status.badInput = failed?.reason === 'PodFailurePolicy';
    status.reason = status.badInput
      ? `exit code ${BAD_INPUT_EXIT_CODE} (bad input)${failed?.message ? `: ${failed.message}` : ''}`
      : [failed?.reason, failed?.message].filter(Boolean).join(': ') || 'failed';
  }
  return status;
}

export interface KubernetesBackendOptions {
  /** Delay before restarting the informer after an error other than 410 (default 1 s). */
  restartDelayMs?: number;
  onError?: (error: unknown) => void;
  /** User-Agent of every API call (the audit log then names the controller that made it). */
  userAgent?: string;
  /** Aborts every API call in flight, and refuses new ones, once aborted (a fenced leader). */
  signal?: AbortSignal;
}

export class KubernetesBackend implements SchedulerBackend {
  readonly name = 'kubernetes';
  readonly defaultParallelism = Number.POSITIVE_INFINITY;
  private readonly batch: BatchV1Api;
  private readonly auth: KeepAliveAuthentication;
  private readonly informer: ListWatch<V1Job>;
  private readonly listeners = new Set<() => void>();
  private readonly statuses = new Map<string, RunStatus>();
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly config: KubernetesConfig,
    private readonly options: KubernetesBackendOptions = {},
    kubeConfig: KubeConfig = kubeConfigFor(config),
  ) {
    const server = kubeConfig.getCurrentCluster()?.server;
    if (!server) throw new Error('kubernetes: the kubeconfig has no current cluster');
    this.auth = new KeepAliveAuthentication(kubeConfig, options);
    this.batch = new BatchV1Api(
      createConfiguration({
        baseServer: new ServerConfiguration(server, {}),
        authMethods: { default: this.auth },
      }),
    );
    const namespace = config.namespace;
    // makeInformer's list-watch, fed slim Jobs by both the list and the watch.
    const watch = new Watch(kubeConfig);
    const slimWatch = {
      watch: (...[path, query, callback, done]: Parameters<Watch['watch']>) =>
        watch.watch(
          path,
          query,
          (phase, object, raw) =>
            callback(
              phase,
              phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED' ? slimJob(object) : object,
              raw,
            ),
          done,
        ),
    } as Watch;
    this.informer = new ListWatch<V1Job>(
      `/apis/batch/v1/namespaces/${namespace}/jobs`,
      slimWatch,
      async () => {
        const list = await this.batch.listNamespacedJob({ namespace, labelSelector: MANAGED_SELECTOR });
        return { ...list, items: list.items.map(slimJob) };
      },
      false,
      MANAGED_SELECTOR,
    );
    const update = (job: V1Job) => {
      const status = runStatusOf(job);
      if (status) this.statuses.set(status.name, status);
      this.notify();
    };
    this.informer.on('add', update);
    this.informer.on('update', update);
    this.informer.on('delete', (job) => {
      if (job.metadata?.name) this.statuses.delete(job.metadata.name);
      this.notify();
    });
    // makeInformer re-lists by itself on 410 Gone; any other error stops it, so start it again.
    this.informer.on('error', (error) => {
      this.options.onError?.(error);
      if (this.stopped) return;
      clearTimeout(this.restartTimer);
      this.restartTimer = setTimeout(() => {
        this.informer.start().catch((e) => this.options.onError?.(e));
      }, this.options.restartDelayMs ?? 1000);
    });
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.informer.start();
  }

  async create(request: RunRequest): Promise<'created' | 'exists'> {
    const body = jobManifest(request, this.config);
    try {
      await this.batch.createNamespacedJob({ namespace: this.config.namespace, body });
      return 'created';
    } catch (error) {
      if (error instanceof ApiException && error.code === 409) return 'exists';
      throw error;
    }
  }

  runs(): RunStatus[] {
    return [...this.statuses.values()];
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async cancel(name: string): Promise<void> {
    try {
      await this.batch.deleteNamespacedJob({
        name,
        namespace: this.config.namespace,
        propagationPolicy: 'Background',
      });
    } catch (error) {
      if (!(error instanceof ApiException && error.code === 404)) throw error;
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    await this.informer.stop();
    this.listeners.clear();
    this.auth.close();
  }
}
