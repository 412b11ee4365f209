// The kubernetes backend: a batch/v1 Job per trial attempt, observed through an informer (list +
// watch, re-list on 410 Gone) on the Jobs this program labelled, and a second slim informer on their
// pods for the ones that cannot start. API requests are retried as client-go does (retry.ts).
import http from 'node:http';
import https from 'node:https';
import {
  BatchV1Api,
  type Configuration,
  CoreV1Api,
  createConfiguration,
  KubeConfig,
  type KubernetesObject,
  ListWatch,
  type RequestContext,
  type SecurityAuthentication,
  ServerConfiguration,
  type V1Pod,
  Watch,
} from '@kubernetes/client-node';
import { Backoff } from '../../../common/backoff.ts';
import { BAD_INPUT_EXIT_CODE } from '../../../common/errors.ts';
import type { RunPhase, RunRequest, RunStatus, SchedulerBackend } from '../backend.ts';
import type { KubernetesConfig } from './config.ts';
import { JobCredentials } from './credentials.ts';
import { getJobListText, parseJobListPage, projectJob, type SlimJob } from './job-list.ts';
import { jobManifest, LABELS, MANAGED_SELECTOR } from './manifest.ts';
import {
  DEFAULT_RETRY,
  type RetryObserver,
  type RetryPolicy,
  statusOf,
  statusReason,
  withRetries,
} from './retry.ts';

/** Lists restarted after an expired continue token (410) before the error is given up to the caller. */
const MAX_LIST_RESTARTS = 3;

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

/** The fields of a Job that {@link runStatusOf} reads: a whole V1Job or a {@link SlimJob}. */
interface JobFields {
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: { suspend?: boolean };
  status?: {
    active?: number;
    conditions?: {
      type: string;
      status: string;
      reason?: string;
      message?: string;
      lastTransitionTime?: string | Date;
    }[];
  };
}

const conditionOf = (job: JobFields, type: string) => job.status?.conditions?.find((c) => c.type === type);
const isTrue = (job: JobFields, type: string) =>
  job.status?.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;

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
export function runStatusOf(job: JobFields): RunStatus | null {
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
  if ((phase === 'pending' || phase === 'running') && job.spec?.suspend) status.suspended = true;
  // Admitted again after a suspension (Kueue preempted it): the attempt starts over from then.
  const resumed = conditionOf(job, 'Suspended');
  if (resumed?.status === 'False' && resumed.lastTransitionTime) {
    const time = new Date(resumed.lastTransitionTime).getTime();
    if (Number.isFinite(time)) status.resumedAt = time;
  }
  return status;
}

/** Container waiting reasons that mean a pod will not start without someone changing something. */
export const STUCK_WAITING_REASONS: ReadonlySet<string> = new Set([
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'CrashLoopBackOff',
  'CreateContainerConfigError',
  'CreateContainerError',
]);

/** Why a pod does not start, if it is in one of the states that do not resolve by waiting. */
export interface PodProblem {
  reason: string;
  message?: string;
}

export function podProblem(pod: V1Pod): PodProblem | undefined {
  const phase = pod.status?.phase;
  if (phase !== 'Pending' && phase !== 'Running') return undefined;
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable')
    return { reason: 'Unschedulable', message: scheduled.message };
  for (const container of pod.status?.containerStatuses ?? []) {
    const waiting = container.state?.waiting;
    if (waiting?.reason && STUCK_WAITING_REASONS.has(waiting.reason))
      return { reason: waiting.reason, message: waiting.message };
  }
  return undefined;
}

/** A pod cut down to its Job's name and, only when it has one, its problem (the pod informer's cache). */
export function slimPod(pod: V1Pod): V1Pod {
  const { name, namespace, labels, resourceVersion } = pod.metadata ?? {};
  const problem = podProblem(pod);
  return {
    metadata: {
      name,
      namespace,
      resourceVersion,
      labels: { [JOB_NAME_LABEL]: labels?.[JOB_NAME_LABEL] ?? '' },
    },
    status: problem
      ? {
          phase: pod.status?.phase,
          conditions:
            problem.reason === 'Unschedulable'
              ? [{ type: 'PodScheduled', status: 'False', reason: problem.reason, message: problem.message }]
              : undefined,
          containerStatuses:
            problem.reason === 'Unschedulable'
              ? undefined
              : [
                  {
                    name: '',
                    image: '',
                    imageID: '',
                    ready: false,
                    restartCount: 0,
                    state: { waiting: { reason: problem.reason, message: problem.message } },
                  },
                ],
        }
      : { phase: pod.status?.phase },
  };
}

const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';

/** A Job's pod problem, since when this process has seen it. */
interface Stuck extends PodProblem {
  pod: string;
  since: number;
}

/** An informer that ran this long without failing restarts its backoff from the first delay. */
const HEALTHY_MS = 60_000;

/** How long a vanished Job is remembered (the controller decides about it long before). */
const GONE_MEMORY_MS = 10 * 60_000;

export interface KubernetesBackendOptions {
  /** First delay before restarting an informer after an error other than 410 (default 1 s, doubling with jitter). */
  restartDelayMs?: number;
  /** Retries of API requests (429, 5xx, 409 Conflict, dropped connections). */
  retry?: RetryPolicy;
  onError?: (error: unknown) => void;
  /** User-Agent of every API call (the audit log then names the controller that made it). */
  userAgent?: string;
  /** Aborts every API call in flight, and refuses new ones, once aborted (a fenced leader). */
  signal?: AbortSignal;
  /** One JSON-able line per notable event (retries, re-lists, stuck pods). */
  log?: (entry: Record<string, unknown>) => void;
  now?: () => number;
}

/**
 * A list-watch of one resource whose objects are cut down before they are cached: `list` returns
 * them cut down, `slim` cuts down a watch event's object. An object `slim` rejects is reported to
 * `invalid` and its event skipped (client-node's Watch would drop the error without a word).
 */
function slimInformer<T extends KubernetesObject>(
  kubeConfig: KubeConfig,
  path: string,
  list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>,
  slim: (object: unknown) => T,
  invalid: (error: unknown) => void,
  fieldSelector?: string,
): ListWatch<T> {
  const watch = new Watch(kubeConfig);
  const slimWatch = {
    watch: (...[watchPath, query, callback, done]: Parameters<Watch['watch']>) =>
      watch.watch(
        watchPath,
        query,
        (phase, object, raw) => {
          if (phase !== 'ADDED' && phase !== 'MODIFIED' && phase !== 'DELETED')
            return callback(phase, object, raw);
          let slimmed: T;
          try {
            slimmed = slim(object);
          } catch (error) {
            return invalid(error);
          }
          callback(phase, slimmed, raw);
        },
        done,
      ),
  } as Watch;
  return new ListWatch<T>(path, slimWatch, list, false, MANAGED_SELECTOR, fieldSelector);
}

/** Jobs per page of a list. */
const LIST_PAGE = 500;

/** Pods that may still be stuck: finished ones are neither listed nor watched (memory, list size). */
const UNFINISHED_PODS = 'status.phase!=Succeeded,status.phase!=Failed';

/** Every managed Job, cut down, and what reading them cost. */
interface JobList {
  items: SlimJob[];
  metadata: { resourceVersion?: string };
  cost: {
    pages: number;
    /** Requests made for them (retries included), and the longest one, answered or failed. */
    tries: number;
    slowestTryMs: number;
    /** Waited between tries of a page (429 Retry-After, 5xx backoff). */
    retryWaitMs: number;
    /** CPU time parsing and projecting the pages. */
    readCpuMs: number;
  };
}

/** Re-list statistics, for logs and the bench: a 410 Gone or a restart makes the informer list again. */
export interface ListStats {
  lists: number;
  /** Wall and CPU time of the last list, from the request to the cache updated. */
  lastMs: number;
  lastCpuMs: number;
  totalMs: number;
  totalCpuMs: number;
}

export class KubernetesBackend implements SchedulerBackend {
  readonly name = 'kubernetes';
  readonly defaultParallelism = Number.POSITIVE_INFINITY;
  private readonly batch: BatchV1Api;
  private readonly core: CoreV1Api;
  /** Per-Job NATS credentials (operator mode), when the settings ask for them. */
  private readonly credentials: JobCredentials | undefined;
  private readonly auth: KeepAliveAuthentication;
  private readonly informer: ListWatch<SlimJob>;
  private readonly configuration: Configuration;
  private readonly podInformer: ListWatch<V1Pod>;
  private readonly listeners = new Set<() => void>();
  private readonly statuses = new Map<string, RunStatus>();
  /** Jobs this backend deleted (their disappearance is expected, not a loss). */
  private readonly deleting = new Set<string>();
  /** Jobs whose pod does not start, by Job name. */
  private readonly stuck = new Map<string, Stuck>();
  private readonly stuckTimers = new Map<string, NodeJS.Timeout>();
  private stopped = false;
  private readonly restarts = new Map<
    ListWatch<never>,
    { timer?: NodeJS.Timeout; backoff: Backoff; lastFailure: number }
  >();
  private readonly retry: RetryPolicy;
  private readonly log: (entry: Record<string, unknown>) => void;
  private readonly now: () => number;
  /** Lists of Jobs (the start-up list and every re-list after a 410 Gone). */
  readonly jobLists: ListStats = { lists: 0, lastMs: 0, lastCpuMs: 0, totalMs: 0, totalCpuMs: 0 };

  constructor(
    readonly config: KubernetesConfig,
    private readonly options: KubernetesBackendOptions = {},
    kubeConfig: KubeConfig = kubeConfigFor(config),
  ) {
    const server = kubeConfig.getCurrentCluster()?.server;
    if (!server) throw new Error('kubernetes: the kubeconfig has no current cluster');
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.log = options.log ?? (() => {});
    this.now = options.now ?? Date.now;
    this.auth = new KeepAliveAuthentication(kubeConfig, options);
    const configuration = createConfiguration({
      baseServer: new ServerConfiguration(server, {}),
      authMethods: { default: this.auth },
    });
    this.configuration = configuration;
    this.batch = new BatchV1Api(configuration);
    this.core = new CoreV1Api(configuration);
    const natsCredentials = config.nats?.credentials;
    this.credentials = natsCredentials
      ? new JobCredentials(
          { ...config, credentials: natsCredentials },
          {
            createNamespacedSecret: (secret) =>
              withRetries(
                'create secret',
                () => this.core.createNamespacedSecret(secret),
                this.retry,
                this.onRetry,
              ),
          },
        )
      : undefined;
    const namespace = config.namespace;

    const invalid = (error: unknown) => {
      this.log({ level: 'error', msg: 'invalid object in a watch event, skipped', error: String(error) });
      this.options.onError?.(error);
    };
    this.informer = slimInformer<SlimJob>(
      kubeConfig,
      `/apis/batch/v1/namespaces/${namespace}/jobs`,
      () => this.timedList(() => this.listJobs(namespace)),
      (job) => projectJob(job, 'watch event of a Job'),
      invalid,
    );
    const update = (job: SlimJob) => {
      const status = runStatusOf(job);
      if (status) this.statuses.set(status.name, status);
      this.notify();
    };
    this.informer.on('add', update);
    this.informer.on('update', update);
    this.informer.on('delete', (job) => this.jobDeleted(job));

    this.podInformer = slimInformer<V1Pod>(
      kubeConfig,
      `/api/v1/namespaces/${namespace}/pods`,
      async () => {
        const list = await withRetries(
          'list pods',
          () =>
            this.core.listNamespacedPod({
              namespace,
              labelSelector: MANAGED_SELECTOR,
              fieldSelector: UNFINISHED_PODS,
            }),
          this.retry,
          this.onRetry,
        );
        return { ...list, items: list.items.map(slimPod) };
      },
      (pod) => slimPod(pod as V1Pod),
      invalid,
      UNFINISHED_PODS,
    );
    this.podInformer.on('add', (pod) => this.podChanged(pod));
    this.podInformer.on('update', (pod) => this.podChanged(pod));
    this.podInformer.on('delete', (pod) => this.podGone(pod));

    for (const informer of [this.informer, this.podInformer] as ListWatch<never>[]) {
      const backoff = new Backoff({
        initialMs: options.restartDelayMs ?? 1000,
        maxMs: 30_000,
        jitter: true,
      });
      this.restarts.set(informer, { backoff, lastFailure: 0 });
      // ListWatch re-lists by itself on 410 Gone; any other error stops it, so start it again after
      // a backoff (it resumes its watch from the last resourceVersion it saw).
      informer.on('error', (error) => this.informerFailed(informer, error));
    }
  }

  private readonly onRetry: RetryObserver = (event) =>
    this.log({ level: 'warn', msg: 'API retry', ...event });

  /**
   * Every managed Job, in pages of {@link LIST_PAGE} (as client-go's pager): at 7,000 Jobs one page
   * is megabytes, and a connection dropped mid-list (a restart) then costs one page, not the list.
   * Each page is read straight into slim Jobs (job-list.ts) and dropped before the next is asked
   * for. Each page is retried on its own; an expired continue token (410) restarts the list.
   */
  private async listJobs(namespace: string): Promise<JobList> {
    for (let restarts = 0; ; restarts++) {
      const items: SlimJob[] = [];
      let next: string | undefined;
      let resourceVersion: string | undefined;
      const cost = { pages: 0, tries: 0, slowestTryMs: 0, retryWaitMs: 0, readCpuMs: 0 };
      try {
        do {
          const text = await withRetries(
            'list jobs',
            async () => {
              const started = performance.now();
              cost.tries++;
              try {
                return await getJobListText(this.configuration, namespace, {
                  labelSelector: MANAGED_SELECTOR,
                  limit: LIST_PAGE,
                  continue: next,
                });
              } finally {
                cost.slowestTryMs = Math.max(cost.slowestTryMs, performance.now() - started);
              }
            },
            this.retry,
            (event) => {
              cost.retryWaitMs += event.delayMs;
              this.onRetry(event);
            },
          );
          const cpu = process.cpuUsage();
          const page = parseJobListPage(text);
          const used = process.cpuUsage(cpu);
          cost.readCpuMs += (used.user + used.system) / 1000;
          cost.pages++;
          for (const job of page.items) items.push(job);
          next = page.continue;
          resourceVersion = page.resourceVersion;
        } while (next);
        return { items, metadata: { resourceVersion }, cost };
      } catch (error) {
        // Restarted a few times; past that the error goes to the informer, which backs off.
        if (next && statusOf(error) === 410 && restarts < MAX_LIST_RESTARTS) continue;
        throw error;
      }
    }
  }

  /** A list of Jobs, with its wall and CPU time recorded (a re-list's cost). */
  private async timedList(list: () => Promise<JobList>): Promise<JobList> {
    const wall = performance.now();
    const cpu = process.cpuUsage();
    const result = await list();
    // ListWatch updates its cache in the continuation of this list, before any timer or I/O
    // callback: setImmediate runs after it. The CPU time is the process's over the list's wall
    // time (other work included); readCpuMs is the list's own parsing.
    setImmediate(() => {
      const used = process.cpuUsage(cpu);
      const stats = this.jobLists;
      stats.lists++;
      stats.lastMs = performance.now() - wall;
      stats.lastCpuMs = (used.user + used.system) / 1000;
      stats.totalMs += stats.lastMs;
      stats.totalCpuMs += stats.lastCpuMs;
      const round = (ms: number) => Math.round(ms * 10) / 10;
      if (stats.lists > 1)
        this.log({
          level: 'info',
          msg: 'jobs re-listed',
          items: result.items.length,
          pages: result.cost.pages,
          tries: result.cost.tries,
          slowestTryMs: round(result.cost.slowestTryMs),
          ms: round(stats.lastMs),
          cpuMs: round(stats.lastCpuMs),
          readCpuMs: round(result.cost.readCpuMs),
          retryWaitMs: round(result.cost.retryWaitMs),
        });
    });
    return result;
  }

  private informerFailed(informer: ListWatch<never>, error: unknown): void {
    this.options.onError?.(error);
    const restart = this.restarts.get(informer)!;
    if (this.stopped) return;
    // The backoff grows while failures follow each other and starts over after a quiet minute.
    const now = this.now();
    if (now - restart.lastFailure > HEALTHY_MS) restart.backoff.reset();
    restart.lastFailure = now;
    clearTimeout(restart.timer);
    restart.timer = setTimeout(() => {
      informer.start().catch((e) => this.options.onError?.(e));
    }, restart.backoff.next());
  }

  private jobDeleted(job: SlimJob): void {
    const name = job.metadata?.name;
    if (!name) return;
    this.clearStuck(name);
    const last = this.statuses.get(name);
    if (this.deleting.delete(name) || !last) {
      this.statuses.delete(name);
    } else {
      // Someone else deleted it, or its TTL did (possibly before this process saw it finish): keep
      // what was last seen, marked gone, for the controller to decide on.
      this.statuses.set(name, { ...last, goneAt: this.now(), suspended: undefined });
      this.log({ level: 'info', msg: 'job vanished', run: name, lastPhase: last.phase });
    }
    this.notify();
  }

  private podChanged(pod: V1Pod): void {
    const job = pod.metadata?.labels?.[JOB_NAME_LABEL];
    if (!job) return;
    const problem = podProblem(pod);
    const current = this.stuck.get(job);
    if (!problem) {
      if (current?.pod === pod.metadata?.name) this.clearStuck(job);
      return;
    }
    if (current?.reason === problem.reason && current.pod === pod.metadata?.name) {
      current.message = problem.message;
      return;
    }
    const since = this.now();
    this.stuck.set(job, { ...problem, pod: pod.metadata!.name!, since });
    // A pass when the limit is reached (the controller re-reads runs()).
    clearTimeout(this.stuckTimers.get(job));
    const timer = setTimeout(() => this.notify(), this.config.stuckPodTimeoutSeconds * 1000 + 10);
    timer.unref();
    this.stuckTimers.set(job, timer);
  }

  private podGone(pod: V1Pod): void {
    const job = pod.metadata?.labels?.[JOB_NAME_LABEL];
    if (job && this.stuck.get(job)?.pod === pod.metadata?.name) this.clearStuck(job);
  }

  private clearStuck(job: string): void {
    this.stuck.delete(job);
    clearTimeout(this.stuckTimers.get(job));
    this.stuckTimers.delete(job);
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  async start(): Promise<void> {
    this.stopped = false;
    await Promise.all([this.informer.start(), this.podInformer.start()]);
  }

  async create(request: RunRequest): Promise<'created' | 'exists'> {
    const manifest = jobManifest(request, this.config);
    const body = this.credentials ? this.credentials.mount(manifest) : manifest;
    const namespace = this.config.namespace;
    try {
      const job = await withRetries(
        'create job',
        () => this.batch.createNamespacedJob({ namespace, body }),
        this.retry,
        this.onRetry,
      );
      // The Secret names the Job's uid, so it comes second; a failure here is retried as 'exists'.
      await this.credentials?.ensureFor(job, request);
      return 'created';
    } catch (error) {
      // A create retried after a 5xx may find the Job that its first try made: the same Job.
      if (!(statusOf(error) === 409 && statusReason(error) !== 'Conflict')) throw error;
      if (this.credentials) {
        const name = body.metadata?.name ?? '';
        const job = await withRetries(
          'read job',
          () => this.batch.readNamespacedJob({ name, namespace }),
          this.retry,
          this.onRetry,
        );
        await this.credentials.ensureFor(job, request);
      }
      return 'exists';
    }
  }

  runs(): RunStatus[] {
    const now = this.now();
    const limitMs = this.config.stuckPodTimeoutSeconds * 1000;
    const out: RunStatus[] = [];
    for (const status of this.statuses.values()) {
      if (status.goneAt !== undefined && now - status.goneAt > GONE_MEMORY_MS) {
        this.statuses.delete(status.name);
        continue;
      }
      const stuck = status.goneAt === undefined ? this.stuck.get(status.name) : undefined;
      if (stuck && !status.suspended && (status.phase === 'pending' || status.phase === 'running')) {
        const seconds = Math.round((now - stuck.since) / 1000);
        if (now - stuck.since >= limitMs) {
          out.push({
            ...status,
            phase: 'failed',
            stuck: stuck.reason,
            reason: `pod ${stuck.pod} stuck in ${stuck.reason} for ${seconds} s${stuck.message ? `: ${stuck.message}` : ''}`,
          });
          continue;
        }
      }
      out.push(status);
    }
    return out;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async cancel(name: string): Promise<void> {
    this.deleting.add(name);
    try {
      await withRetries(
        'delete job',
        () =>
          this.batch.deleteNamespacedJob({
            name,
            namespace: this.config.namespace,
            propagationPolicy: 'Background',
          }),
        this.retry,
        this.onRetry,
      );
    } catch (error) {
      if (statusOf(error) !== 404) {
        this.deleting.delete(name);
        throw error;
      }
      // Already gone: drop what is remembered of it.
      this.deleting.delete(name);
      if (this.statuses.get(name)?.goneAt !== undefined) this.statuses.delete(name);
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    for (const restart of this.restarts.values()) clearTimeout(restart.timer);
    for (const timer of this.stuckTimers.values()) clearTimeout(timer);
    await Promise.all([this.informer.stop(), this.podInformer.stop()]);
    this.listeners.clear();
    this.auth.close();
  }
}
