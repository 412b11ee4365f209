// The Sweep objects' reconciler: Sweep custom resources (desired) against sweeps in the database. A new
// or edited object is validated with the sweep file's schema and expanded into trials, idempotently
// (the sweep row records the object's uid and trials are unique by key, so a second controller or a
// restart adds nothing); an invalid spec, or an edit of a field that cannot change, becomes a
// condition instead of an error loop; a deleted object cancels its sweep (finalizer) and keeps the
// results; the status is rewritten only when it changed. The trial-level work stays with the
// Controller (controller.ts). start()/stop() may be called repeatedly, so leadership can gate it.
import { InputError } from '../../common/errors.ts';
import type { RunStatus } from '../scheduler/backend.ts';
import { sweepInput, trialInputs } from '../store/plan-records.ts';
import { type StatusCounts, type Store, type Sweep, SweepOwnedError } from '../store/store.ts';
import { canonicalJson } from '../sweep/keys.ts';
import {
  planOfObject,
  SWEEP_FINALIZER,
  type SweepCondition,
  type SweepObject,
  type SweepPhase,
  type SweepResourceStatus,
} from '../sweep/resource.ts';
import type { SweepFile } from '../sweep/spec.ts';
import { isActive } from './decide.ts';
import { PassLoop, type PassOutcome } from './pass-loop.ts';

/** The API side: a cache of the namespace's Sweep objects and the writes the reconciler makes. */
export interface SweepObjectApi {
  /** Begins observing; resolves once `objects()` holds what exists. Idempotent. */
  start(): Promise<void>;
  objects(): SweepObject[];
  onChange(listener: () => void): () => void;
  /** Replaces `metadata.finalizers` (refused if the object changed since it was read). */
  setFinalizers(object: SweepObject, finalizers: string[]): Promise<void>;
  /** Writes the status subresource. */
  writeStatus(object: SweepObject, status: SweepResourceStatus): Promise<void>;
}

export type SweepResourceStore = Pick<
  Store,
  | 'submitSweep'
  | 'findSweep'
  | 'cancelSweep'
  | 'releaseSweep'
  | 'resumeCancelledTrials'
  | 'statusCountsBySweep'
  | 'sweepResults'
>;

/** What cancelling a sweep's runs needs of the scheduler backend. */
export interface RunCanceller {
  runs(): RunStatus[];
  cancel(name: string): Promise<void>;
}

export interface SweepResourcesOptions {
  /** The backend the sweeps run on (the database's `backend` column). */
  backend?: 'kubernetes' | 'local';
  debounceMs?: number;
  /** Passes happen at least this often, to follow the trials' progress (default 2 s). */
  resyncMs?: number;
  log?: (entry: Record<string, unknown>) => void;
  now?: () => Date;
}

/**
 * Fields whose change would not extend the grid but replace every trial (their values are in every
 * trial's key): an edit of one is refused; delete the Sweep and create it anew instead.
 */
const FIXED_FIELDS = ['budget', 'dataset', 'targets'] as const;

function fixedValue(spec: SweepFile, field: (typeof FIXED_FIELDS)[number]): string {
  if (field === 'targets')
    return spec.sparsities ? 'sparsities' : spec.compressions ? 'compressions' : 'none';
  return canonicalJson(spec[field] ?? null);
}

const PHASE_OF: Record<Sweep['status'], SweepPhase> = {
  pending: 'Pending',
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

/** What a pass found out about one object before the status is written. */
interface Resolved {
  object: SweepObject;
  sweep: Sweep | null;
  accepted: Pick<SweepCondition, 'status' | 'reason' | 'message'>;
}

export class SweepResources {
  private readonly log: (entry: Record<string, unknown>) => void;
  private readonly now: () => Date;
  private readonly backend: 'kubernetes' | 'local';
  private readonly debounceMs: number;
  private readonly resyncMs: number;
  private started = false;
  private readonly passes: PassLoop;
  private resync: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  /** Best results by sweep id, recomputed when the number of completed trials changes. */
  private readonly best = new Map<
    string,
    { completed: number; rows: NonNullable<SweepResourceStatus['best']> }
  >();

  constructor(
    private readonly api: SweepObjectApi,
    private readonly store: SweepResourceStore,
    private readonly runs: RunCanceller | null,
    options: SweepResourcesOptions = {},
  ) {
    this.log = options.log ?? (() => {});
    this.now = options.now ?? (() => new Date());
    this.backend = options.backend ?? 'kubernetes';
    this.debounceMs = options.debounceMs ?? 50;
    this.resyncMs = options.resyncMs ?? 2000;
    this.passes = new PassLoop(() => this.pass(), { debounceMs: this.debounceMs });
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.api.start();
    this.unsubscribe = this.api.onChange(() => this.poke());
    this.resync = setInterval(() => this.poke(), this.resyncMs);
    this.passes.start();
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    clearInterval(this.resync);
    this.unsubscribe?.();
    await this.passes.stop();
  }

  poke(): void {
    if (this.started) this.passes.poke();
  }

  /** Resolves after the next pass that found nothing more to do (for tests and tools). */
  idle(): Promise<void> {
    return this.passes.idle();
  }

  private async pass(): Promise<PassOutcome> {
    try {
      await this.reconcile();
      return 'done';
    } catch (error) {
      this.log({ level: 'error', msg: 'sweep objects: reconcile failed', error: String(error) });
      return 'retry';
    }
  }

  /** One pass over every Sweep object: expand or finalize each, then write the statuses that changed. */
  async reconcile(): Promise<void> {
    const resolved: Resolved[] = [];
    for (const object of this.api.objects()) {
      if (object.metadata.deletionTimestamp) {
        await this.finalize(object);
        continue;
      }
      resolved.push(await this.resolve(object));
    }
    const ids = resolved.flatMap((r) => (r.sweep ? [r.sweep.id] : []));
    const counts =
      ids.length > 0 ? await this.store.statusCountsBySweep(ids) : new Map<string, StatusCounts>();
    for (const r of resolved) {
      const sweepCounts = r.sweep ? counts.get(r.sweep.id) : undefined;
      const status = await this.statusOf(r, sweepCounts);
      if (!sameStatus(r.object.status, status)) await this.api.writeStatus(r.object, status);
    }
  }

  /** Validates and (when the generation is new) expands one object. */
  private async resolve(object: SweepObject): Promise<Resolved> {
    const uid = object.metadata.uid ?? '';
    const found = await this.store.findSweep(object.metadata.name);
    const owned = found && found.resourceUid === uid ? found : null;
    const generation = object.metadata.generation ?? 0;
    const previous = object.status?.conditions?.find((c) => c.type === 'Accepted');
    // A generation already decided on is not validated and expanded again (a paper-scale grid is
    // 20,000 trial keys to hash): a restarted controller reads its decision from the status.
    const decided = previous?.reason === 'Expanded' || previous?.reason === 'SpecChangeRefused';
    if (owned && decided && object.status?.observedGeneration === generation)
      return { object, sweep: owned, accepted: previous };
    let plan: ReturnType<typeof planOfObject>;
    try {
      plan = planOfObject(object);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      return {
        object,
        sweep: owned,
        accepted: { status: 'False', reason: 'Invalid', message: error.message },
      };
    }
    if (found && !owned && found.resourceUid) {
      return {
        object,
        sweep: null,
        accepted: {
          status: 'False',
          reason: 'Invalid',
          message: `metadata.name: sweep '${found.name}' belongs to another Sweep object (uid ${found.resourceUid}); choose another name`,
        },
      };
    }
    if (found) {
      const changed = FIXED_FIELDS.filter((f) => fixedValue(found.spec, f) !== fixedValue(plan.spec, f));
      if (changed.length > 0) {
        return {
          object,
          sweep: owned,
          accepted: {
            status: 'False',
            reason: 'SpecChangeRefused',
            message: `spec.${changed.join(', spec.')} cannot change (it is part of every trial): the sweep keeps its previous spec; delete the Sweep and create it anew to change it`,
          },
        };
      }
    }
    // The finalizer first: once trials exist, deleting the object must reach this controller.
    await this.ensureFinalizer(object);
    try {
      const result = await this.store.submitSweep(
        { ...sweepInput(plan, this.backend), resourceUid: uid },
        trialInputs(plan),
      );
      let resumed = 0;
      if (found && !found.resourceUid && found.status === 'cancelled')
        resumed = await this.store.resumeCancelledTrials(result.sweep.id);
      this.log({
        level: 'info',
        msg: 'sweep object expanded',
        sweep: object.metadata.name,
        uid,
        generation,
        addedTrials: result.addedTrials,
        totalTrials: result.totalTrials,
        resumed,
      });
      const sweep = (await this.store.findSweep(result.sweep.id)) ?? result.sweep;
      return {
        object,
        sweep,
        accepted: {
          status: 'True',
          reason: 'Expanded',
          message: `${result.totalTrials} trials (${result.addedTrials} added by generation ${generation})`,
        },
      };
    } catch (error) {
      if (!(error instanceof SweepOwnedError)) throw error;
      return {
        object,
        sweep: null,
        accepted: { status: 'False', reason: 'Invalid', message: `metadata.name: ${error.message}` },
      };
    }
  }

  private async ensureFinalizer(object: SweepObject): Promise<void> {
    const finalizers = object.metadata.finalizers ?? [];
    if (finalizers.includes(SWEEP_FINALIZER)) return;
    await this.api.setFinalizers(object, [...finalizers, SWEEP_FINALIZER]);
  }

  /** A deleted object: cancel its sweep and runs (results stay), give the sweep up, drop the finalizer. */
  private async finalize(object: SweepObject): Promise<void> {
    const finalizers = object.metadata.finalizers ?? [];
    if (!finalizers.includes(SWEEP_FINALIZER)) return;
    const uid = object.metadata.uid ?? '';
    const found = await this.store.findSweep(object.metadata.name);
    if (found && found.resourceUid === uid) {
      const cancelled = await this.store.cancelSweep(found.id);
      const runs = (this.runs?.runs() ?? []).filter((r) => r.sweepId === found.id && isActive(r));
      for (const run of runs) await this.runs!.cancel(run.name);
      await this.store.releaseSweep(found.id, uid);
      this.log({
        level: 'info',
        msg: 'sweep object deleted: sweep cancelled',
        sweep: found.name,
        cancelledTrials: cancelled,
        deletedRuns: runs.length,
      });
    }
    await this.api.setFinalizers(
      object,
      finalizers.filter((f) => f !== SWEEP_FINALIZER),
    );
  }

  private async statusOf(r: Resolved, counts: StatusCounts | undefined): Promise<SweepResourceStatus> {
    const previous = r.object.status;
    const generation = r.object.metadata.generation ?? 0;
    const phase: SweepPhase = r.sweep
      ? PHASE_OF[r.sweep.status]
      : r.accepted.status === 'False'
        ? 'Invalid'
        : 'Pending';
    const status: SweepResourceStatus = { phase, observedGeneration: generation };
    if (r.sweep && counts) {
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      const done = counts.completed + counts.failed + counts.cancelled;
      status.sweepId = r.sweep.id;
      status.progress = `${done}/${total}`;
      status.counts = { total, ...counts };
      const startedAt =
        previous?.startedAt ?? (counts.pending < total ? this.now().toISOString() : undefined);
      if (startedAt) status.startedAt = startedAt;
      if (r.sweep.finishedAt) status.finishedAt = r.sweep.finishedAt.toISOString();
      const best = await this.bestOf(r.sweep.id, counts.completed);
      if (best.length > 0) status.best = best;
    }
    const succeeded = succeededCondition(phase);
    status.conditions = [
      this.condition(previous, 'Accepted', r.accepted, generation),
      this.condition(previous, 'Succeeded', succeeded, generation),
    ];
    return status;
  }

  /** A condition; its transition time moves only when its status does. */
  private condition(
    previous: SweepResourceStatus | undefined,
    type: SweepCondition['type'],
    value: Pick<SweepCondition, 'status' | 'reason' | 'message'>,
    generation: number,
  ): SweepCondition {
    const before = previous?.conditions?.find((c) => c.type === type);
    const lastTransitionTime =
      before && before.status === value.status ? before.lastTransitionTime : this.now().toISOString();
    return { type, ...value, lastTransitionTime, observedGeneration: generation };
  }

  private async bestOf(
    sweepId: string,
    completed: number,
  ): Promise<NonNullable<SweepResourceStatus['best']>> {
    const cached = this.best.get(sweepId);
    if (cached && cached.completed === completed) return cached.rows;
    const rows = completed > 0 ? await this.store.sweepResults(sweepId, { completedOnly: true }) : [];
    const byPoint = new Map<string, NonNullable<SweepResourceStatus['best']>[number]>();
    for (const row of rows) {
      if (row.accuracy === null) continue;
      const key = `${row.arch}/${row.pruner}/${row.pruningType}/${row.targetCompression}`;
      const entry = byPoint.get(key);
      if (!entry) {
        byPoint.set(key, {
          arch: row.arch,
          pruner: row.pruner,
          type: row.pruningType,
          compression: row.targetCompression,
          accuracy: row.accuracy,
          seeds: 1,
        });
      } else {
        entry.accuracy = Math.max(entry.accuracy, row.accuracy);
        entry.seeds++;
      }
    }
    const best = [...byPoint.values()];
    this.best.set(sweepId, { completed, rows: best });
    return best;
  }
}

function succeededCondition(phase: SweepPhase): Pick<SweepCondition, 'status' | 'reason' | 'message'> {
  switch (phase) {
    case 'Completed':
      return { status: 'True', reason: 'Completed', message: 'every trial completed' };
    case 'Failed':
      return {
        status: 'False',
        reason: 'Failed',
        message: 'some trials failed for good (esweep sweep retry puts them back)',
      };
    case 'Cancelled':
      return { status: 'False', reason: 'Cancelled', message: 'the sweep was cancelled' };
    case 'Running':
      return { status: 'Unknown', reason: 'Running', message: 'trials are running' };
    case 'Invalid':
      return { status: 'Unknown', reason: 'Invalid', message: 'the spec was not accepted' };
    default:
      return { status: 'Unknown', reason: 'Pending', message: 'waiting for trials to start' };
  }
}

/** Equal apart from key order: the status is not rewritten when nothing changed. */
function sameStatus(a: SweepResourceStatus | undefined, b: SweepResourceStatus): boolean {
  return a !== undefined && canonicalJson(a) === canonicalJson(b);
}
