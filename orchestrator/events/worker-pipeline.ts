/**
 * The reporter of a trial that runs under the orchestrator (a Kubernetes Job or a child of
 * `esweep run`): docs/events.md events through TrialReporter, heartbeats while it runs, and the dense
 * network's weights in the artifact store, where magnitude/LAMP trials of the same sweep find them.
 * The scheduler's environment (../scheduler/environment.ts) says which trial this is; the transport
 * is the parent's IPC channel (embedded mode) or NATS JetStream (the cluster).
 * It lives on the orchestrator's side: the worker only knows its Reporter interface, and
 * `esweep train` hands it this one when it runs under the orchestrator.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { parseInput } from '../../common/validation.ts';
import type { Architecture } from '../../worker/arch/graph.ts';
import type {
  FailedEvent,
  MetricsEvent,
  ProgressEvent,
  Reporter,
  SparsityEvent,
  SparsityOverall,
  StartedEvent,
  TrialResult,
} from '../../worker/report/reporter.ts';
import { type DenseWeightFiles, denseWeightFiles } from '../../worker/trial/dense-weights.ts';
import { resolveTrial, type TrialSpec } from '../../worker/trial/spec.ts';
import {
  ARTIFACT_BUCKET,
  type ArtifactStore,
  artifactName,
  DENSE_WEIGHT_FILES,
  FileArtifactStore,
  NatsArtifactStore,
} from './artifacts.ts';
import { credsFileOptions, workerInboxPrefix } from './credentials.ts';
import { IpcSink } from './ipc.ts';
import { connectNats, NatsEventSink } from './nats.ts';
import { EventPublisher, TrialReporter, workerIncarnation } from './publisher.ts';
import type { EventSink } from './transport.ts';

const optional = z
  .string()
  .optional()
  .transform((v) => v || undefined);

/** The variables a worker reads when it runs under the orchestrator. */
const OrchestratedEnv = z.object({
  ESWEEP_SWEEP_ID: z.string().min(1),
  ESWEEP_TRIAL_ID: z.string().min(1),
  ESWEEP_ATTEMPT: z.coerce.number().int().min(1),
  ESWEEP_RUN_NAME: optional,
  /** The dense trial whose weights a magnitude/LAMP trial scores. */
  ESWEEP_DENSE_TRIAL_ID: optional,
  /** `ipc` (the parent is `esweep run`) or `nats`; default ipc when there is an IPC channel. */
  ESWEEP_EVENTS: z.enum(['ipc', 'nats']).optional(),
  NATS_URL: optional,
  /** A `.creds` file (NATS operator mode: the Job's own user, mounted from its Secret). */
  NATS_CREDS: optional,
  /** Subject prefix (default `esweep`). */
  ESWEEP_EVENT_PREFIX: optional,
  /** Artifacts as files under this directory (embedded mode); else the NATS object store. */
  ESWEEP_ARTIFACT_DIR: optional,
  /** Object store bucket (default `esweep-artifacts`). */
  ESWEEP_ARTIFACT_BUCKET: optional,
  /** Hours an artifact is kept when this worker creates the bucket (default 168: 7 days). */
  ESWEEP_ARTIFACT_TTL_HOURS: z.coerce.number().positive().optional(),
  /** Seconds between heartbeats (default 30). */
  ESWEEP_HEARTBEAT_SECONDS: z.coerce.number().positive().optional(),
  /**
   * Seconds the worker keeps trying to reach NATS, or to get events stored, before the attempt
   * fails (exit 69) for the controller to retry it (default 180).
   */
  ESWEEP_PUBLISH_DEADLINE_SECONDS: z.coerce.number().positive().optional(),
});
type OrchestratedEnv = z.output<typeof OrchestratedEnv>;

/** null when this process was not started by the orchestrator (no ESWEEP_SWEEP_ID). */
export function orchestratedEnv(env: NodeJS.ProcessEnv = process.env): OrchestratedEnv | null {
  if (!env.ESWEEP_SWEEP_ID) return null;
  return parseInput(OrchestratedEnv, env, 'environment');
}

/** JSON has no Infinity: an infinite compression (nothing left) travels as null. */
const finiteOrNull = (value: number) => (Number.isFinite(value) ? value : null);

function overallPayload(o: SparsityOverall) {
  return {
    total: o.total,
    direct: o.direct,
    effective: o.effective,
    directSparsity: o.directSparsity,
    effectiveSparsity: o.effectiveSparsity,
    directCompression: finiteOrNull(o.directCompression),
    effectiveCompression: finiteOrNull(o.effectiveCompression),
  };
}

/** Publishes one attempt's events; `close()` flushes them (call it before the process exits). */
class PipelineReporter implements Reporter {
  private lastStep = 0;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly events: TrialReporter,
    private readonly artifacts: ArtifactStore,
    private readonly env: OrchestratedEnv,
  ) {}

  async started(e: StartedEvent): Promise<void> {
    const { host, backend, gpu, device, tfjsVersion, libtensorflowVersion, imageTag } = e.provenance;
    await this.events.started({
      host,
      backend,
      provenance: { gpu, device, tfjsVersion, libtensorflowVersion, imageTag },
      jobName: this.env.ESWEEP_RUN_NAME,
      totalSteps: e.iterations,
    });
    const every = (this.env.ESWEEP_HEARTBEAT_SECONDS ?? 30) * 1000;
    this.heartbeat = setInterval(() => void this.events.heartbeat({ step: this.lastStep }), every).unref();
  }

  async sparsity(e: SparsityEvent): Promise<void> {
    await this.events.sparsity({
      layers: e.layers.map(({ name, shape, params, direct, effective }) => ({
        name,
        shape,
        params,
        direct,
        effective,
      })),
      overall: overallPayload(e.overall),
    });
  }

  async progress(e: ProgressEvent): Promise<void> {
    this.lastStep = e.step;
    await this.events.progress({ step: e.step, totalSteps: e.iterations, phase: 'training' });
  }

  async metrics(e: MetricsEvent): Promise<void> {
    if (e.points.length > 0) await this.events.metrics(e.points);
  }

  async completed(r: TrialResult): Promise<void> {
    const artifacts = r.weights ? await this.storeDenseWeights(r.weights) : undefined;
    const overall = overallPayload(r);
    await this.events.completed({
      accuracy: r.accuracy,
      bestAccuracy: r.bestAccuracy,
      loss: Number.isFinite(r.loss) ? r.loss : null,
      seconds: r.seconds,
      directSparsity: overall.directSparsity,
      effectiveSparsity: overall.effectiveSparsity,
      directCompression: overall.directCompression,
      effectiveCompression: overall.effectiveCompression,
      ...(artifacts ? { artifacts } : {}),
      ...(r.disconnected ? { disconnected: true } : {}),
    });
    await this.events.flush();
  }

  async failed(e: FailedEvent): Promise<void> {
    await this.events.failed(e);
    await this.events.flush();
  }

  /** Stops the heartbeats and waits until every event is acknowledged. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.events.flush();
  }

  private async storeDenseWeights(files: DenseWeightFiles): Promise<Record<string, string>> {
    const { ESWEEP_SWEEP_ID: sweep, ESWEEP_TRIAL_ID: trial, ESWEEP_ATTEMPT: attempt } = this.env;
    const stored: Record<string, string> = {};
    for (const role of ['initial', 'final'] as const) {
      const name = artifactName(sweep, trial, attempt, DENSE_WEIGHT_FILES[role]);
      await this.artifacts.put(name, await readFile(files[role]));
      stored[`dense-${role}`] = name;
    }
    return stored;
  }
}

/**
 * Copies the dense trial's weights (its latest attempt that stored them) from the artifact store
 * into `dir`, laid out as `esweep train --dense-from DIR` expects.
 */
async function fetchDenseWeights(
  artifacts: ArtifactStore,
  sweepId: string,
  denseTrialId: string,
  arch: Architecture,
  seed: number,
  dir: string,
): Promise<void> {
  const prefix = `${sweepId}/${denseTrialId}/`;
  const attemptOf = (name: string) => Number(name.slice(prefix.length).split('/')[0]);
  const finals = (await artifacts.list(prefix))
    .map((info) => info.name)
    .filter((name) => name.endsWith(`/${DENSE_WEIGHT_FILES.final}`))
    .sort((a, b) => attemptOf(b) - attemptOf(a));
  if (finals.length === 0) {
    throw new Error(`the dense trial ${denseTrialId} has stored no weights in the artifact store`);
  }
  const attempt = attemptOf(finals[0]!);
  const target = denseWeightFiles(dir, arch, seed);
  await mkdir(dir, { recursive: true });
  for (const role of ['initial', 'final'] as const) {
    const data = await artifacts.get(artifactName(sweepId, denseTrialId, attempt, DENSE_WEIGHT_FILES[role]));
    if (!data)
      throw new Error(
        `artifact ${artifactName(sweepId, denseTrialId, attempt, DENSE_WEIGHT_FILES[role])} vanished`,
      );
    await writeFile(target[role], data);
  }
}

/** A worker's side of the orchestrator while one trial runs. */
export interface OrchestratedRun {
  reporter: PipelineReporter;
  /** Where the dense trial's weights were fetched to (magnitude/LAMP trials), else undefined. */
  denseFrom: string | undefined;
  /** A scratch directory for this trial's own dense weights (uploaded when it completes). */
  weightsOut: string;
  /** Flushes the events, releases the transport and removes the scratch files. */
  close(): Promise<void>;
}

/**
 * This process's reporter. Each call is a new incarnation of the attempt: a pod that replaces an
 * evicted one within the same attempt numbers its events from 0 again, under its own id.
 */
export function trialReporterFor(publisher: EventPublisher, env: OrchestratedEnv): TrialReporter {
  return new TrialReporter(publisher, {
    sweepId: env.ESWEEP_SWEEP_ID,
    trialId: env.ESWEEP_TRIAL_ID,
    attempt: env.ESWEEP_ATTEMPT,
    incarnation: workerIncarnation(),
    prefix: env.ESWEEP_EVENT_PREFIX,
  });
}

/**
 * Opens the transport and the artifact store the environment names and, for a trial that scores
 * the trained dense network, fetches that network's weights.
 */
export async function startOrchestratedRun(spec: TrialSpec, env: OrchestratedEnv): Promise<OrchestratedRun> {
  const ipc = (env.ESWEEP_EVENTS ?? (process.send ? 'ipc' : 'nats')) === 'ipc';
  let nc: NatsConnection | undefined;
  const deadlineMs = (env.ESWEEP_PUBLISH_DEADLINE_SECONDS ?? 180) * 1000;
  const nats = async () => {
    nc ??= await connectNats({
      servers: env.NATS_URL,
      name: `esweep-worker-${env.ESWEEP_TRIAL_ID}`,
      deadlineMs,
      onAttempt: (attempt) =>
        process.stderr.write(
          `${JSON.stringify({ level: 'warn', msg: 'nats connect failed', ...attempt })}\n`,
        ),
      // The inbox prefix is the only one a worker's credentials may subscribe to.
      connection: {
        ...credsFileOptions(env.NATS_CREDS),
        inboxPrefix: workerInboxPrefix(env.ESWEEP_TRIAL_ID, env.ESWEEP_ATTEMPT),
      },
    });
    return nc;
  };
  const sink: EventSink = ipc ? new IpcSink() : new NatsEventSink(await nats());
  const artifacts: ArtifactStore = env.ESWEEP_ARTIFACT_DIR
    ? new FileArtifactStore(env.ESWEEP_ARTIFACT_DIR)
    : new NatsArtifactStore(await nats(), env.ESWEEP_ARTIFACT_BUCKET ?? ARTIFACT_BUCKET, {
        ...(env.ESWEEP_ARTIFACT_TTL_HOURS ? { ttlMs: env.ESWEEP_ARTIFACT_TTL_HOURS * 3600_000 } : {}),
      });
  const publisher = new EventPublisher(sink, { giveUpAfterMs: deadlineMs });
  const events = trialReporterFor(publisher, env);
  const reporter = new PipelineReporter(events, artifacts, env);
  const scratch = await mkdtemp(join(tmpdir(), 'esweep-trial-'));
  const close = async () => {
    try {
      await reporter.close();
      await publisher.close();
      if (nc) await nc.drain();
    } finally {
      // After a failed flush the connection may be reconnecting forever: close it, so the process ends.
      if (nc && !nc.isClosed()) await nc.close();
      if (ipc) process.disconnect?.();
      await rm(scratch, { recursive: true, force: true });
    }
  };
  try {
    const trial = resolveTrial(spec);
    let denseFrom: string | undefined;
    if (trial.pruner.requires.includes('trainedWeights') && env.ESWEEP_DENSE_TRIAL_ID) {
      denseFrom = join(scratch, 'dense');
      await fetchDenseWeights(
        artifacts,
        env.ESWEEP_SWEEP_ID,
        env.ESWEEP_DENSE_TRIAL_ID,
        trial.arch,
        spec.seed,
        denseFrom,
      );
    }
    return { reporter, denseFrom, weightsOut: join(scratch, 'weights'), close };
  } catch (error) {
    await close();
    throw error;
  }
}
