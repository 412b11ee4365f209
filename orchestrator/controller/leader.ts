// Leader election on a lease (a coordination.k8s.io/v1 Lease on Kubernetes), with client-go's
// protocol: candidates read the lease every retry period and take it over, by an update conditional
// on the resourceVersion they read, once its holder has not renewed for a whole lease duration as
// measured on their OWN clock from when they last saw the record change (so clock offsets between
// machines do not matter, only their rates). The holder renews every retry period and, when it has
// not renewed within the renew deadline, stops acting (the fence) — earlier than anyone else can
// have taken the lease, because renewDeadline < leaseDuration and the deadline is counted from
// before the renew request was sent. docs/high-availability.md gives the argument in full.
import { setTimeout as delay } from 'node:timers/promises';

/** What a lease says (coordination.k8s.io/v1 LeaseSpec, the fields leader election uses). */
export interface LeaseSpec {
  /** Empty: nobody holds it (released), anyone may take it at once. */
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: Date;
  renewTime: Date;
  leaseTransitions: number;
}

export interface LeaseRecord {
  spec: LeaseSpec;
  /** Changes with every write: the update's precondition (optimistic concurrency). */
  resourceVersion: string;
}

/** Another writer got there first (HTTP 409): this attempt lost the race. */
export class LeaseConflictError extends Error {
  constructor(message = 'the lease changed meanwhile') {
    super(message);
    this.name = 'LeaseConflictError';
  }
}

/** The seam to the lease's store: the Kubernetes API (lease-client.ts) or memory (tests). */
export interface LeaseClient {
  /** The lease, or null when there is none. */
  get(signal: AbortSignal): Promise<LeaseRecord | null>;
  /** Creates it; LeaseConflictError when it exists already. */
  create(spec: LeaseSpec, signal: AbortSignal): Promise<LeaseRecord>;
  /** Replaces it if it is still at `resourceVersion`; LeaseConflictError otherwise. */
  update(spec: LeaseSpec, resourceVersion: string, signal: AbortSignal): Promise<LeaseRecord>;
}

export interface Clock {
  /** Milliseconds on a clock that never goes back (deadlines) and reads as the epoch (lease times). */
  now(): number;
  /** Resolves after `ms`, or as soon as `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  sleep: (ms, signal) => delay(Math.max(0, ms), undefined, { signal }).catch(() => {}),
};

/** client-go's defaults. */
export const LEADER_DEFAULTS = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
/**
 * A candidate waits retryPeriod · (1 − up to this factor) between tries, and no longer than until the
 * lease it watches expires. client-go waits retryPeriod · (1 + up to 1.2) instead; jittering below
 * the period keeps the spread between candidates but bounds how late a candidate sees the holder's
 * last renewal by one retry period, so a takeover comes within leaseDuration + retryPeriod of it.
 */
const JITTER = 0.5;

export type LeaderEvent =
  | { event: 'lead gained'; transitions: number }
  | { event: 'lead lost'; reason: string }
  | { event: 'lead released' }
  | { event: 'leader observed'; holder: string }
  | { event: 'lease error'; error: string };

export interface LeaderElectorOptions {
  identity: string;
  client: LeaseClient;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  clock?: Clock;
  random?: () => number;
  log?: (event: LeaderEvent) => void;
}

/** What ended a term: the fence (no renewal within the deadline) or the caller's stop. */
export type TermEnd = 'lost' | 'stopped';

/**
 * One candidate. `run` campaigns until it leads, calls `lead` with the term's signal (aborted at the
 * fence or on stop) and waits for it; on stop it releases the lease after `lead` returned.
 */
export class LeaderElector {
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  /** Times this candidate gained the lead. */
  termsLed = 0;
  /** The lease's own count of holder changes, as last read. */
  leaseTransitions = 0;
  private readonly client: LeaseClient;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: (event: LeaderEvent) => void;
  /** The record last read or written and when (own clock) it was first seen. */
  private observed: LeaseRecord | null = null;
  private observedAt = 0;
  /** When the lease another holds expires unless renewed (own clock), as last observed. */
  private expiresAt = Number.NEGATIVE_INFINITY;
  /** While leading: the moment this candidate must have stopped acting unless it renews. */
  private fenceAt = Number.NEGATIVE_INFINITY;
  private holder = '';

  constructor(options: LeaderElectorOptions) {
    this.identity = options.identity;
    this.client = options.client;
    this.leaseDurationMs = options.leaseDurationMs ?? LEADER_DEFAULTS.leaseDurationMs;
    this.renewDeadlineMs = options.renewDeadlineMs ?? LEADER_DEFAULTS.renewDeadlineMs;
    this.retryPeriodMs = options.retryPeriodMs ?? LEADER_DEFAULTS.retryPeriodMs;
    if (!(this.retryPeriodMs < this.renewDeadlineMs && this.renewDeadlineMs < this.leaseDurationMs))
      throw new RangeError('leader election needs retryPeriod < renewDeadline < leaseDuration');
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.log = options.log ?? (() => {});
  }

  /**
   * Whether this candidate may act now: it leads and its last renewal is within the renew deadline.
   * Synchronous and clock-based, so a late timer cannot stretch a term: check it before every write.
   */
  isLeader(): boolean {
    return this.clock.now() < this.fenceAt;
  }

  /** The durations, for logs. */
  timing(): { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number } {
    const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = this;
    return { leaseDurationMs, renewDeadlineMs, retryPeriodMs };
  }

  /** The holder as last observed ('' when none). */
  leader(): string {
    return this.holder;
  }

  /**
   * Campaigns, leads one term and returns how it ended. `lead(term)` runs the leader's work; `term`
   * aborts at the fence or on `stop`, and `lead` must then stop acting and resolve. On `stop` the
   * lease is released once `lead` resolved, so that a successor need not wait for it to expire.
   */
  async run(stop: AbortSignal, lead: (term: AbortSignal) => Promise<void>): Promise<TermEnd> {
    let sentAt = 0;
    for (;;) {
      if (stop.aborted) return 'stopped';
      sentAt = this.clock.now();
      const acquired = await withDeadline(this.clock, this.renewDeadlineMs, stop, (signal) =>
        this.tryAcquireOrRenew(signal),
      );
      if (acquired) break;
      const untilExpiry = this.expiresAt - this.clock.now();
      const wait = this.retryPeriodMs * (1 - this.random() * JITTER);
      await this.clock.sleep(untilExpiry > 0 ? Math.min(wait, untilExpiry) : wait, stop);
    }
    const term = new AbortController();
    const endTerm = () => term.abort();
    stop.addEventListener('abort', endTerm, { once: true });
    this.fenceAt = sentAt + this.renewDeadlineMs;
    this.termsLed++;
    this.log({ event: 'lead gained', transitions: this.leaseTransitions });
    const working = lead(term.signal);
    const fence = this.watchFence(term);
    await this.renewUntilEnd(term);
    await Promise.all([working, fence]);
    stop.removeEventListener('abort', endTerm);
    this.fenceAt = Number.NEGATIVE_INFINITY;
    if (!stop.aborted) return 'lost';
    await this.release();
    return 'stopped';
  }

  /** Aborts the term at the fence, moved forward by every renewal; logs why the lead was lost. */
  private async watchFence(term: AbortController): Promise<void> {
    while (!term.signal.aborted) {
      const left = this.fenceAt - this.clock.now();
      if (left <= 0) {
        this.fenceAt = Number.NEGATIVE_INFINITY;
        this.log({ event: 'lead lost', reason: `not renewed within ${this.renewDeadlineMs} ms` });
        term.abort();
        return;
      }
      await this.clock.sleep(left, term.signal);
    }
  }

  /**
   * Renews every retry period; a failed renewal is retried each period until the fence ends the
   * term, or ends it at once when the lease turns out to be someone else's.
   */
  private async renewUntilEnd(term: AbortController): Promise<void> {
    for (;;) {
      await this.clock.sleep(this.retryPeriodMs, term.signal);
      if (term.signal.aborted) return;
      const sentAt = this.clock.now();
      // A request still open at the fence is given up: past it the answer no longer matters.
      const renewed = await withDeadline(this.clock, this.fenceAt - sentAt, term.signal, (signal) =>
        this.tryAcquireOrRenew(signal),
      );
      if (term.signal.aborted) return;
      if (renewed) this.fenceAt = Math.max(this.fenceAt, sentAt + this.renewDeadlineMs);
      else if (this.holder !== this.identity) {
        this.fenceAt = Number.NEGATIVE_INFINITY;
        this.log({ event: 'lead lost', reason: `the lease is held by '${this.holder}'` });
        term.abort();
      }
    }
  }

  /**
   * One round of the protocol: read the lease; take it if there is none, it was released, it is ours
   * or its holder let it expire; write it conditionally. True when this candidate holds it now.
   */
  async tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const now = this.clock.now();
    const desired: LeaseSpec = {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime: new Date(now),
      renewTime: new Date(now),
      leaseTransitions: 0,
    };
    try {
      const current = await this.client.get(signal);
      if (!current) {
        this.observe(await this.client.create(desired, signal));
        return true;
      }
      if (current.resourceVersion !== this.observed?.resourceVersion) this.observe(current);
      const { spec } = current;
      const held = spec.holderIdentity !== '' && spec.holderIdentity !== this.identity;
      this.expiresAt = held ? this.observedAt + spec.leaseDurationSeconds * 1000 : Number.NEGATIVE_INFINITY;
      if (held && this.clock.now() < this.expiresAt) return false;
      if (spec.holderIdentity === this.identity) {
        desired.acquireTime = spec.acquireTime;
        desired.leaseTransitions = spec.leaseTransitions;
      } else {
        desired.leaseTransitions = spec.leaseTransitions + 1;
      }
      this.observe(await this.client.update(desired, current.resourceVersion, signal));
      return true;
    } catch (error) {
      // A request cut off by its deadline says so (the reason), not just "aborted".
      if (!(error instanceof LeaseConflictError))
        this.log({ event: 'lease error', error: String(signal.aborted ? signal.reason : error) });
      return false;
    }
  }

  private observe(record: LeaseRecord): void {
    this.observed = record;
    this.observedAt = this.clock.now();
    this.leaseTransitions = record.spec.leaseTransitions;
    if (record.spec.holderIdentity !== this.holder) {
      this.holder = record.spec.holderIdentity;
      if (this.holder !== this.identity && this.holder !== '')
        this.log({ event: 'leader observed', holder: this.holder });
    }
  }

  /**
   * Gives the lease up (holder cleared, as client-go's ReleaseOnCancel) if it is still ours. A refused
   * write is tried again until the renew deadline: a 409 by re-reading the lease (released only if it
   * is still ours), a throttled or failed request after a short pause. Given up, the lease expires.
   */
  private async release(): Promise<void> {
    let ours = this.observed;
    const deadline = this.clock.now() + this.renewDeadlineMs;
    const pause = new AbortController().signal;
    for (let attempt = 1; ; attempt++) {
      if (!ours || ours.spec.holderIdentity !== this.identity) return;
      const now = new Date(this.clock.now());
      const spec: LeaseSpec = {
        ...ours.spec,
        holderIdentity: '',
        leaseDurationSeconds: 1,
        renewTime: now,
        acquireTime: now,
      };
      const version = ours.resourceVersion;
      try {
        const released = await withDeadline(this.clock, deadline - this.clock.now(), undefined, (signal) =>
          this.client.update(spec, version, signal),
        );
        this.observe(released);
        this.log({ event: 'lead released' });
        return;
      } catch (error) {
        if (this.clock.now() >= deadline) {
          this.log({ event: 'lease error', error: `release: ${String(error)}` });
          return;
        }
        if (!(error instanceof LeaseConflictError)) {
          this.log({ event: 'lease error', error: `release (attempt ${attempt}): ${String(error)}` });
          await this.clock.sleep(Math.min(this.retryPeriodMs / 4, deadline - this.clock.now()), pause);
        }
      }
      try {
        const current = await withDeadline(this.clock, deadline - this.clock.now(), undefined, (signal) =>
          this.client.get(signal),
        );
        if (current) this.observe(current);
        ours = current;
      } catch {
        // The write is tried again with what was read last, after the same pause.
        await this.clock.sleep(Math.min(this.retryPeriodMs / 4, deadline - this.clock.now()), pause);
      }
    }
  }
}

/** Runs `work` with a signal that aborts after `ms` on `clock`, or with `parent`. */
async function withDeadline<T>(
  clock: Clock,
  ms: number,
  parent: AbortSignal | undefined,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const expired = new AbortController();
  const settled = new AbortController();
  clock.sleep(ms, parent ? AbortSignal.any([parent, settled.signal]) : settled.signal).then(() => {
    if (!settled.signal.aborted) expired.abort(new Error(`lease request timed out after ${ms} ms`));
  });
  try {
    return await work(parent ? AbortSignal.any([parent, expired.signal]) : expired.signal);
  } finally {
    settled.abort();
  }
}
