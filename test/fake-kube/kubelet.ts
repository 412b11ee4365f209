// The fake cluster's job controller and kubelet: each Job gets a pod, each pod's container command
// really runs as a local process with the pod's environment, and pod exits drive the Job's status
// the way batch/v1 does (podFailurePolicy rules in order, backoffLimit, activeDeadlineSeconds,
// ttlSecondsAfterFinished, DisruptionTarget for evictions, suspend and resume as Kueue drives them).
// Faults: pods that never start (Unschedulable, ImagePullBackOff, CrashLoopBackOff: see faults.ts) and
// TTLs that expire at once.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { type StuckRule, stuckRuleFor } from './faults.ts';
import type { KubeObject, Store } from './store.ts';

export interface JobControllerOptions {
  /** 'process' runs each container's command (default); 'instant' completes pods at once. */
  mode?: 'process' | 'instant';
  /** Milliseconds per "second" of deadlines and TTLs (default 1000; tests may speed time up). */
  msPerSecond?: number;
  /** Pods that never start, and why (faults.ts `stuck=`). */
  stuck?: StuckRule[];
  /** Finished Jobs are deleted at once, whatever their ttlSecondsAfterFinished (faults.ts `ttl=0`). */
  ttlImmediate?: boolean;
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
  };
}
interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: { secretRef?: { name: string }; configMapRef?: { name: string }; prefix?: string }[];
}
interface PodSpec {
  containers: Container[];
  nodeName?: string;
}
interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}
interface Pod extends KubeObject {
  spec: PodSpec;
  status: {
    phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
    conditions?: Condition[];
    startTime?: string;
    containerStatuses?: {
      name: string;
      image?: string;
      ready?: boolean;
      restartCount?: number;
      state: Record<string, { exitCode?: number; reason?: string; message?: string }>;
      lastState?: Record<string, { exitCode?: number; reason?: string; message?: string }>;
    }[];
  };
}
interface PodFailurePolicyRule {
  action: 'FailJob' | 'Ignore' | 'Count' | 'FailIndex';
  onExitCodes?: { containerName?: string; operator: 'In' | 'NotIn'; values: number[] };
  onPodConditions?: { type: string; status?: string }[];
}
interface Job extends KubeObject {
  spec: {
    backoffLimit?: number;
    activeDeadlineSeconds?: number;
    ttlSecondsAfterFinished?: number;
    suspend?: boolean;
    podFailurePolicy?: { rules: PodFailurePolicyRule[] };
    template: { metadata?: { labels?: Record<string, string> }; spec: PodSpec };
  };
  status?: {
    active?: number;
    succeeded?: number;
    failed?: number;
    startTime?: string;
    completionTime?: string;
    conditions?: Condition[];
  };
}

interface JobState {
  pods: Set<string>;
  finished: boolean;
  timers: NodeJS.Timeout[];
  /** spec.suspend as last acted on (Kueue flips it: admission false, preemption true). */
  suspended: boolean;
}

const now = () => new Date().toISOString();

export class JobController {
  private readonly states = new Map<string, JobState>();
  private readonly processes = new Map<string, ChildProcess>();
  /** Pods whose termination must carry these conditions (evictions). */
  private readonly disruptions = new Map<string, Condition>();
  private stopped = false;
  private readonly unsubscribe: () => void;
  /** Pods that never start (tests may add rules while the cluster runs). */
  readonly stuck: StuckRule[];
  ttlImmediate: boolean;

  constructor(
    private readonly store: Store,
    private readonly options: JobControllerOptions = {},
  ) {
    this.stuck = [...(options.stuck ?? [])];
    this.ttlImmediate = options.ttlImmediate ?? false;
    this.unsubscribe = store.subscribe((change) => {
      if (change.resource !== 'jobs') return;
      const job = change.object as Job;
      if (change.type === 'ADDED') setImmediate(() => this.jobAdded(job));
      else if (change.type === 'MODIFIED') {
        const state = this.states.get(`${job.metadata.namespace}/${job.metadata.name}`);
        if (state && !state.finished && Boolean(job.spec.suspend) !== state.suspended)
          setImmediate(() => this.suspendChanged(job));
      }
    });
  }

  private get msPerSecond(): number {
    return this.options.msPerSecond ?? 1000;
  }

  private jobAdded(added: Job): void {
    if (this.stopped) return;
    const ns = added.metadata.namespace!;
    const id = `${ns}/${added.metadata.name}`;
    // The stored Job, not the one added: Kueue may have admitted it meanwhile.
    const job = this.store.get('jobs', ns, added.metadata.name) as Job | undefined;
    if (!job || job.metadata.uid !== added.metadata.uid) return;
    const state: JobState = { pods: new Set(), finished: false, timers: [], suspended: false };
    this.states.set(id, state);
    if (job.spec.suspend) {
      this.suspend(job, state);
      return;
    }
    this.resume(job, state, false);
  }

  /** Kueue admitted (suspend false) or preempted (suspend true) a Job. */
  private suspendChanged(job: Job): void {
    const ns = job.metadata.namespace!;
    const state = this.states.get(`${ns}/${job.metadata.name}`);
    const stored = this.store.get('jobs', ns, job.metadata.name) as Job | undefined;
    if (!state || state.finished || !stored || this.stopped) return;
    if (Boolean(stored.spec.suspend) === state.suspended) return;
    if (stored.spec.suspend) this.suspend(stored, state);
    else this.resume(stored, state, true);
  }

  /**
   * As the job controller suspends a Job: its active pods are deleted (not counted as failures), the
   * deadline stops, startTime is cleared and the Suspended condition is True.
   */
  private suspend(job: Job, state: JobState): void {
    const ns = job.metadata.namespace!;
    state.suspended = true;
    this.clearTimers(state);
    const pods = [...state.pods];
    state.pods.clear();
    for (const pod of pods) if (this.store.get('pods', ns, pod)) this.deletePod(ns, pod);
    this.updateJobStatus(job, (status) => {
      status.active = 0;
      delete status.startTime;
      status.conditions = [
        ...(status.conditions ?? []).filter((c) => c.type !== 'Suspended'),
        {
          type: 'Suspended',
          status: 'True',
          reason: 'JobSuspended',
          message: 'Job suspended',
          lastTransitionTime: now(),
        },
      ];
    });
  }

  private resume(job: Job, state: JobState, wasSuspended: boolean): void {
    const ns = job.metadata.namespace!;
    state.suspended = false;
    this.store.update('jobs', ns, job.metadata.name, (o) => {
      const status = { ...(o as Job).status, startTime: now(), active: 0 };
      if (wasSuspended) {
        status.conditions = [
          ...(status.conditions ?? []).filter((c) => c.type !== 'Suspended'),
          {
            type: 'Suspended',
            status: 'False',
            reason: 'JobResumed',
            message: 'Job resumed',
            lastTransitionTime: now(),
          },
        ];
      }
      (o as Job).status = status;
    });
    const deadline = job.spec.activeDeadlineSeconds;
    if (deadline) {
      state.timers.push(
        setTimeout(
          () => this.failJob(job, 'DeadlineExceeded', 'Job was active longer than specified deadline'),
          deadline * this.msPerSecond,
        ).unref(),
      );
    }
    this.startPod(job);
  }

  private startPod(job: Job): void {
    const ns = job.metadata.namespace!;
    const jobName = job.metadata.name;
    const state = this.states.get(`${ns}/${jobName}`);
    if (!state || state.finished || this.stopped) return;
    const name = `${jobName}-${randomBytes(3).toString('hex').slice(0, 5)}`;
    const labels = job.spec.template.metadata?.labels;
    const stuck = stuckRuleFor(this.stuck, job.spec.template.spec.containers[0].image, labels);
    const unschedulable = stuck?.reason === 'Unschedulable';
    const pod = this.store.create('pods', ns, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        labels: {
          ...job.spec.template.metadata?.labels,
          'batch.kubernetes.io/job-name': jobName,
          'job-name': jobName,
          'batch.kubernetes.io/controller-uid': job.metadata.uid!,
          'controller-uid': job.metadata.uid!,
        },
        ownerReferences: [
          { apiVersion: 'batch/v1', kind: 'Job', name: jobName, uid: job.metadata.uid!, controller: true },
        ],
      },
      spec: {
        ...structuredClone(job.spec.template.spec),
        ...(unschedulable ? {} : { nodeName: 'fake-node' }),
      },
      status: { phase: 'Pending' },
    }) as Pod;
    state.pods.add(name);
    this.updateJobStatus(job, (status) => {
      status.active = state.pods.size;
    });
    if (stuck) {
      this.store.update('pods', ns, name, (o) => {
        (o as Pod).status = stuckStatus(stuck.reason, pod.spec.containers[0]);
      });
      return;
    }
    if (this.options.mode === 'instant') {
      setImmediate(() => {
        if (!this.markRunning(ns, name)) return;
        this.podExited(job, name, 0);
      });
      return;
    }
    this.runContainer(job, pod);
  }

  private runContainer(job: Job, pod: Pod): void {
    const ns = pod.metadata.namespace!;
    const container = pod.spec.containers[0];
    let env: Record<string, string>;
    try {
      env = this.containerEnv(pod, container);
    } catch (error) {
      // Like a kubelet that cannot resolve a secret reference: the pod stays Pending.
      this.store.update('pods', ns, pod.metadata.name, (o) => {
        (o as Pod).status.containerStatuses = [
          {
            name: container.name,
            state: { waiting: { reason: 'CreateContainerConfigError', message: String(error) } },
          },
        ];
      });
      return;
    }
    const [command, ...args] = [...(container.command ?? []), ...(container.args ?? [])];
    // Nothing reads pod logs, so the container's output goes nowhere.
    const child = spawn(command, args, { env, stdio: 'ignore' });
    this.processes.set(`${ns}/${pod.metadata.name}`, child);
    child.on('spawn', () => this.markRunning(ns, pod.metadata.name));
    // A command that cannot start still ends in 'close' (with a negative exit code), which fails the pod.
    child.on('error', () => {});
    child.on('close', (code, signal) => {
      this.processes.delete(`${ns}/${pod.metadata.name}`);
      const exitCode = code ?? 128 + (signal === 'SIGKILL' ? 9 : 15);
      this.podExited(job, pod.metadata.name, exitCode);
    });
  }

  private containerEnv(pod: Pod, container: Container): Record<string, string> {
    const ns = pod.metadata.namespace!;
    // Only what any process needs from this one; everything else comes from the pod spec.
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      TMPDIR: process.env.TMPDIR ?? '/tmp',
      HOSTNAME: pod.metadata.name,
    };
    const data = (resource: 'secrets' | 'configmaps', name: string) => {
      const object = this.store.get(resource, ns, name) as
        | (KubeObject & { data?: Record<string, string> })
        | undefined;
      if (!object) throw new Error(`${resource === 'secrets' ? 'secret' : 'configmap'} "${name}" not found`);
      const values = object.data ?? {};
      return resource === 'secrets'
        ? Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]))
        : values;
    };
    for (const source of container.envFrom ?? []) {
      const values = source.secretRef
        ? data('secrets', source.secretRef.name)
        : data('configmaps', source.configMapRef!.name);
      for (const [key, value] of Object.entries(values)) env[`${source.prefix ?? ''}${key}`] = value;
    }
    for (const variable of container.env ?? []) {
      const from = variable.valueFrom;
      if (variable.value !== undefined) env[variable.name] = variable.value;
      else if (from?.fieldRef) env[variable.name] = fieldValue(pod, from.fieldRef.fieldPath);
      else if (from?.secretKeyRef) {
        const value = data('secrets', from.secretKeyRef.name)[from.secretKeyRef.key];
        if (value === undefined)
          throw new Error(`key ${from.secretKeyRef.key} not in secret ${from.secretKeyRef.name}`);
        env[variable.name] = value;
      } else if (from?.configMapKeyRef) {
        env[variable.name] = data('configmaps', from.configMapKeyRef.name)[from.configMapKeyRef.key] ?? '';
      }
    }
    return env;
  }

  private markRunning(ns: string, podName: string): boolean {
    if (!this.store.get('pods', ns, podName)) return false;
    this.store.update('pods', ns, podName, (o) => {
      const pod = o as Pod;
      pod.status = {
        ...pod.status,
        phase: 'Running',
        startTime: now(),
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now() }],
        containerStatuses: [{ name: pod.spec.containers[0].name, state: { running: {} } }],
      };
    });
    return true;
  }

  private podExited(job: Job, podName: string, exitCode: number): void {
    const ns = job.metadata.namespace!;
    const key = `${ns}/${podName}`;
    const disruption = this.disruptions.get(key);
    this.disruptions.delete(key);
    const existing = this.store.get('pods', ns, podName) as Pod | undefined;
    if (existing) {
      this.store.update('pods', ns, podName, (o) => {
        const pod = o as Pod;
        pod.status.phase = exitCode === 0 ? 'Succeeded' : 'Failed';
        pod.status.conditions = [
          ...(pod.status.conditions ?? []).filter((c) => c.type !== 'Ready'),
          { type: 'Ready', status: 'False', reason: 'PodCompleted', lastTransitionTime: now() },
          ...(disruption ? [disruption] : []),
        ];
        pod.status.containerStatuses = [
          {
            name: pod.spec.containers[0].name,
            state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error' } },
          },
        ];
      });
    }
    this.podFinished(job, podName, exitCode, disruption ? [disruption] : []);
  }

  /** The job controller's reaction to a pod that ended (or vanished). */
  private podFinished(job: Job, podName: string, exitCode: number, conditions: Condition[]): void {
    const ns = job.metadata.namespace!;
    const state = this.states.get(`${ns}/${job.metadata.name}`);
    if (!state?.pods.delete(podName) || state.finished) return;
    if (!this.store.get('jobs', ns, job.metadata.name)) return;
    if (exitCode === 0) {
      this.completeJob(job);
      return;
    }
    const containerName = job.spec.template.spec.containers[0].name;
    const rule = job.spec.podFailurePolicy?.rules.find((r) =>
      ruleMatches(r, containerName, exitCode, conditions),
    );
    const action = rule?.action ?? 'Count';
    if (action === 'Ignore') {
      this.updateJobStatus(job, (status) => {
        status.active = state.pods.size;
      });
      this.startPod(job);
      return;
    }
    if (action === 'FailJob' || action === 'FailIndex') {
      const index = job.spec.podFailurePolicy!.rules.indexOf(rule!);
      this.failJob(
        job,
        'PodFailurePolicy',
        `Container ${containerName} for pod ${ns}/${podName} failed with exit code ${exitCode} matching FailJob rule at index ${index}`,
        1,
      );
      return;
    }
    let failed = 0;
    this.updateJobStatus(job, (status) => {
      status.failed = (status.failed ?? 0) + 1;
      status.active = state.pods.size;
      failed = status.failed;
    });
    if (failed > (job.spec.backoffLimit ?? 6)) {
      this.failJob(job, 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
      return;
    }
    this.startPod(job);
  }

  private completeJob(job: Job): void {
    const state = this.states.get(`${job.metadata.namespace}/${job.metadata.name}`)!;
    state.finished = true;
    this.clearTimers(state);
    this.updateJobStatus(job, (status) => {
      const time = now();
      status.active = 0;
      status.succeeded = (status.succeeded ?? 0) + 1;
      status.completionTime = time;
      status.conditions = [
        // Earlier conditions (Suspended False after a resumption) stay, as the job controller keeps them.
        ...(status.conditions ?? []).filter((c) => c.type === 'Suspended'),
        {
          type: 'SuccessCriteriaMet',
          status: 'True',
          reason: 'CompletionsReached',
          lastTransitionTime: time,
        },
        { type: 'Complete', status: 'True', reason: 'CompletionsReached', lastTransitionTime: time },
      ];
    });
    this.expireLater(job, state);
  }

  private failJob(job: Job, reason: string, message: string, failedPods = 0): void {
    const ns = job.metadata.namespace!;
    const state = this.states.get(`${ns}/${job.metadata.name}`);
    if (!state || state.finished || !this.store.get('jobs', ns, job.metadata.name)) return;
    state.finished = true;
    this.clearTimers(state);
    for (const pod of state.pods) {
      if (this.processes.has(`${ns}/${pod}`)) this.killPod(ns, pod);
      // A pod that never started (stuck) is deleted, as the job controller does with active pods.
      else if (this.store.get('pods', ns, pod)) this.deletePod(ns, pod);
    }
    this.updateJobStatus(job, (status) => {
      const time = now();
      status.active = 0;
      status.failed = (status.failed ?? 0) + failedPods;
      status.conditions = [
        ...(status.conditions ?? []).filter((c) => c.type === 'Suspended'),
        { type: 'FailureTarget', status: 'True', reason, message, lastTransitionTime: time },
        { type: 'Failed', status: 'True', reason, message, lastTransitionTime: time },
      ];
    });
    this.expireLater(job, state);
  }

  private expireLater(job: Job, state: JobState): void {
    const ttl = this.ttlImmediate ? 0 : job.spec.ttlSecondsAfterFinished;
    if (ttl === undefined) return;
    state.timers.push(
      setTimeout(() => {
        if (this.store.get('jobs', job.metadata.namespace!, job.metadata.name)) {
          this.deleteJob(job.metadata.namespace!, job.metadata.name, 'Background');
        }
      }, ttl * this.msPerSecond).unref(),
    );
  }

  private updateJobStatus(job: Job, change: (status: NonNullable<Job['status']>) => void): void {
    const ns = job.metadata.namespace!;
    if (!this.store.get('jobs', ns, job.metadata.name)) return;
    this.store.update('jobs', ns, job.metadata.name, (o) => {
      const stored = o as Job;
      stored.status ??= {};
      change(stored.status);
    });
  }

  private clearTimers(state: JobState): void {
    for (const timer of state.timers) clearTimeout(timer);
    state.timers = [];
  }

  private killPod(ns: string, podName: string): void {
    this.processes.get(`${ns}/${podName}`)?.kill('SIGTERM');
  }

  /** The eviction API: the pod gets a DisruptionTarget condition and is terminated. */
  evict(ns: string, podName: string): void {
    const key = `${ns}/${podName}`;
    const condition = {
      type: 'DisruptionTarget',
      status: 'True',
      reason: 'EvictionByEvictionAPI',
      message: 'Eviction API: evicting',
      lastTransitionTime: now(),
    };
    if (this.processes.has(key)) {
      this.disruptions.set(key, condition);
      this.killPod(ns, podName);
    } else {
      this.deletePod(ns, podName);
    }
  }

  deletePod(ns: string, podName: string): KubeObject {
    const pod = this.store.delete('pods', ns, podName) as Pod;
    const key = `${ns}/${podName}`;
    const child = this.processes.get(key);
    if (child) {
      // Its exit is then a failure of a pod that no longer exists (exit code from the signal).
      child.kill('SIGKILL');
    } else {
      const owner = pod.metadata.ownerReferences?.[0];
      const job = owner && (this.store.get('jobs', ns, owner.name) as Job | undefined);
      if (job && pod.status.phase !== 'Succeeded' && pod.status.phase !== 'Failed')
        this.podFinished(job, podName, 137, []);
    }
    return pod;
  }

  deleteJob(ns: string, name: string, propagationPolicy: string): KubeObject {
    const job = this.store.delete('jobs', ns, name);
    const state = this.states.get(`${ns}/${name}`);
    if (state) {
      state.finished = true;
      this.clearTimers(state);
    }
    this.states.delete(`${ns}/${name}`);
    if (propagationPolicy !== 'Orphan') {
      for (const pod of this.store.list('pods', ns)) {
        if (pod.metadata.ownerReferences?.some((o) => o.uid === job.metadata.uid))
          this.deletePod(ns, pod.metadata.name);
      }
    }
    return job;
  }

  /** Running container processes (for tests: nothing may be left behind). */
  get runningProcesses(): number {
    return this.processes.size;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe();
    for (const state of this.states.values()) this.clearTimers(state);
    const exits = [...this.processes.values()].map(
      (child) =>
        new Promise<void>((resolve) =>
          child.exitCode !== null ? resolve() : child.once('close', () => resolve()),
        ),
    );
    for (const child of this.processes.values()) child.kill('SIGKILL');
    await Promise.all(exits);
  }
}

/** A stuck pod's status as the scheduler or the kubelet reports it. */
function stuckStatus(reason: StuckRule['reason'], container: Container): Pod['status'] {
  const time = now();
  if (reason === 'Unschedulable') {
    return {
      phase: 'Pending',
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message:
            '0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
          lastTransitionTime: time,
        },
      ],
    };
  }
  const scheduled = [
    { type: 'PodScheduled', status: 'True', lastTransitionTime: time },
    { type: 'Ready', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: time },
  ];
  const image = container.image ?? '';
  if (reason === 'CrashLoopBackOff') {
    return {
      phase: 'Running',
      startTime: time,
      conditions: scheduled,
      containerStatuses: [
        {
          name: container.name,
          image,
          ready: false,
          restartCount: 5,
          state: {
            waiting: {
              reason,
              message: `back-off 2m40s restarting failed container=${container.name}`,
            },
          },
          lastState: { terminated: { exitCode: 1, reason: 'Error' } },
        },
      ],
    };
  }
  return {
    phase: 'Pending',
    startTime: time,
    conditions: scheduled,
    containerStatuses: [
      {
        name: container.name,
        image,
        ready: false,
        restartCount: 0,
        state: {
          waiting: {
            reason,
            message:
              reason === 'ImagePullBackOff'
                ? `Back-off pulling image "${image}"`
                : `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": not found`,
          },
        },
      },
    ],
  };
}

function fieldValue(pod: Pod, path: string): string {
  switch (path) {
    case 'metadata.name':
      return pod.metadata.name;
    case 'metadata.namespace':
      return pod.metadata.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'spec.nodeName':
      return pod.spec.nodeName ?? '';
    default:
      if (path.startsWith('metadata.labels[')) return pod.metadata.labels?.[path.slice(17, -2)] ?? '';
      throw new Error(`unsupported fieldRef ${path}`);
  }
}

function ruleMatches(
  rule: PodFailurePolicyRule,
  containerName: string,
  exitCode: number,
  conditions: Condition[],
): boolean {
  if (rule.onExitCodes) {
    const { containerName: only, operator, values } = rule.onExitCodes;
    if (only && only !== containerName) return false;
    return operator === 'In' ? values.includes(exitCode) : !values.includes(exitCode);
  }
  return (rule.onPodConditions ?? []).some((wanted) =>
    conditions.some((c) => c.type === wanted.type && c.status === (wanted.status ?? 'True')),
  );
}
