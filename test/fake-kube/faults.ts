// Faults that a real API server and a real cluster produce, injected into the fake on purpose so the
// controller is tested against them: throttling (429 with Retry-After), 5xx bursts, stale updates
// (409 Conflict), expired watches (410 Gone), restarts that drop every watch, Jobs collected by their
// TTL at once, and pods that never start (Unschedulable, ImagePullBackOff, CrashLoopBackOff). One
// seeded RNG draws every fault, so a run with the same spec and seed injects the same faults in the
// same request order.

/** Why a stuck pod does not start: the scheduler's or the kubelet's waiting reason. */
export const STUCK_REASONS = [
  'Unschedulable',
  'ImagePullBackOff',
  'ErrImagePull',
  'CrashLoopBackOff',
] as const;
export type StuckReason = (typeof STUCK_REASONS)[number];

/** Pods that stay stuck: those of an image, or those carrying a label. */
export interface StuckRule {
  reason: StuckReason;
  image?: string;
  label?: { key: string; value: string };
}

export interface FaultSpec {
  /** Probability per request (not watches) of 429 Too Many Requests with Retry-After. */
  throttle: number;
  /** Seconds named in Retry-After (default 1). */
  retryAfterSeconds: number;
  /** Probability per request (watches included) that a burst of 500 / 503 answers starts. */
  internalError: number;
  unavailable: number;
  /** Requests a 5xx burst lasts (default 3): the first and the next burst − 1 requests fail. */
  burst: number;
  /** Probability per update or patch of 409 Conflict (the object was modified meanwhile). */
  conflict: number;
  /** Probability per watch request of 410 Gone (the client must re-list). */
  gone: number;
  /** Milliseconds between API-server restarts (every watch and connection dropped); 0 = none. */
  restartEveryMs: number;
  /** Finished Jobs are deleted at once, whatever their ttlSecondsAfterFinished. */
  ttlImmediate: boolean;
  stuck: StuckRule[];
  seed: number;
}

export const FAULTS_HELP = `--faults SPEC   inject API-server and cluster faults; SPEC is a comma-separated list of
                KEY=VALUE (rates are probabilities per request, drawn from one seeded RNG):
  429=P          answer P of requests (not watches) 429 Too Many Requests with Retry-After
  retryAfter=S   seconds named in Retry-After (default 1)
  500=P, 503=P   start a burst of 500 Internal Server Error / 503 Service Unavailable with
                 probability P per request (watches included)
  burst=N        requests a 5xx burst lasts (default 3)
  409=P          answer P of updates and patches 409 Conflict (a stale resourceVersion)
  410=P          answer P of watch requests 410 Gone (the client must re-list)
  restart=D      restart the API server every D (e.g. 30s, 500ms, 2m): every watch and
                 connection is dropped, stored objects survive (etcd)
  ttl=0          delete finished Jobs at once, whatever their ttlSecondsAfterFinished
  stuck=R:SEL    pods matching SEL never start: R is Unschedulable, ImagePullBackOff,
                 ErrImagePull or CrashLoopBackOff; SEL is image=IMAGE or LABEL=VALUE
                 (may be repeated)
  seed=N         RNG seed (default 1)
  example: --faults 429=0.05,500=0.02,503=0.02,410=0.1,restart=30s,seed=1`;

/** A duration like `30s`, `500ms`, `2m` or a bare number of seconds, in milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new Error(`'${text}' is not a duration (e.g. 30s, 500ms, 2m)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 's']!;
  return Number(match[1]) * unit;
}

function rate(key: string, text: string): number {
  const value = Number(text);
  if (!(text.trim() !== '' && value >= 0 && value <= 1))
    throw new Error(`${key}=${text}: a rate is a probability in [0, 1]`);
  return value;
}

function wholeNumber(key: string, text: string, min = 0): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`${key}=${text}: must be a whole number ≥ ${min}`);
  return value;
}

export const NO_FAULTS: Readonly<FaultSpec> = {
  throttle: 0,
  retryAfterSeconds: 1,
  internalError: 0,
  unavailable: 0,
  burst: 3,
  conflict: 0,
  gone: 0,
  restartEveryMs: 0,
  ttlImmediate: false,
  stuck: [],
  seed: 1,
};

/** Reads a fault spec (see {@link FAULTS_HELP}); throws with the offending entry. */
export function parseFaults(spec: string): FaultSpec {
  const out: FaultSpec = { ...NO_FAULTS, stuck: [] };
  for (const entry of spec.split(',').map((e) => e.trim())) {
    if (!entry) continue;
    const at = entry.indexOf('=');
    if (at <= 0) throw new Error(`fault '${entry}' is not KEY=VALUE`);
    const key = entry.slice(0, at);
    const value = entry.slice(at + 1);
    switch (key) {
      case '429':
        out.throttle = rate(key, value);
        break;
      case 'retryAfter':
        out.retryAfterSeconds = wholeNumber(key, value);
        break;
      case '500':
        out.internalError = rate(key, value);
        break;
      case '503':
        out.unavailable = rate(key, value);
        break;
      case 'burst':
        out.burst = wholeNumber(key, value, 1);
        break;
      case '409':
        out.conflict = rate(key, value);
        break;
      case '410':
        out.gone = rate(key, value);
        break;
      case 'restart':
        out.restartEveryMs = parseDuration(value);
        break;
      case 'ttl':
        if (value !== '0') throw new Error(`ttl=${value}: only ttl=0 (immediate) is a fault`);
        out.ttlImmediate = true;
        break;
      case 'stuck':
        out.stuck.push(parseStuck(value));
        break;
      case 'seed':
        out.seed = wholeNumber(key, value);
        break;
      default:
        throw new Error(`unknown fault '${key}' (see --help)`);
    }
  }
  return out;
}

function parseStuck(text: string): StuckRule {
  const colon = text.indexOf(':');
  const reason = text.slice(0, colon) as StuckReason;
  if (colon <= 0 || !STUCK_REASONS.includes(reason))
    throw new Error(`stuck=${text}: expected REASON:SELECTOR with REASON one of ${STUCK_REASONS.join(', ')}`);
  const selector = text.slice(colon + 1);
  const at = selector.indexOf('=');
  if (at <= 0) throw new Error(`stuck=${text}: the selector is image=IMAGE or LABEL=VALUE`);
  const key = selector.slice(0, at);
  const value = selector.slice(at + 1);
  return key === 'image' ? { reason, image: value } : { reason, label: { key, value } };
}

/** mulberry32: a small seeded PRNG with a full 2^32 period, enough for fault draws. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** What the fake API server is about to serve (the fake's `intercept` hook receives this). */
export interface InterceptedRequest {
  method: string;
  verb: string;
  resource: string;
  namespace?: string;
  name?: string;
  watch: boolean;
}

export interface InjectedFault {
  code: number;
  retryAfterSeconds?: number;
}

/** The first matching stuck rule of a pod (by its container image or its labels), if any. */
export function stuckRuleFor(
  rules: readonly StuckRule[],
  image: string | undefined,
  labels: Record<string, string> | undefined,
): StuckRule | undefined {
  return rules.find((rule) =>
    rule.image !== undefined ? rule.image === image : labels?.[rule.label!.key] === rule.label!.value,
  );
}

/**
 * Draws the faults of one spec: `intercept` answers the fake's hook (null = serve the request),
 * and `injected` counts what was injected by code, for tests and the bench.
 */
export class FaultInjector {
  readonly injected = new Map<number, number>();
  private readonly random: () => number;
  private burst: { code: number; left: number } | null = null;

  constructor(readonly spec: FaultSpec) {
    this.random = seededRandom(spec.seed);
  }

  /** Whether any request-level fault can be drawn. */
  get active(): boolean {
    const s = this.spec;
    return s.throttle + s.internalError + s.unavailable + s.conflict + s.gone > 0;
  }

  intercept = (request: InterceptedRequest): InjectedFault | null => {
    const fault = this.draw(request);
    if (fault) this.injected.set(fault.code, (this.injected.get(fault.code) ?? 0) + 1);
    return fault;
  };

  private draw(request: InterceptedRequest): InjectedFault | null {
    const s = this.spec;
    if (this.burst) {
      const { code } = this.burst;
      if (--this.burst.left <= 0) this.burst = null;
      return { code };
    }
    // One draw per kind of fault, always in this order, so the sequence depends only on the seed
    // and the requests.
    const throttle = this.random() < s.throttle;
    const internal = this.random() < s.internalError;
    const unavailable = this.random() < s.unavailable;
    const conflict = this.random() < s.conflict;
    const gone = this.random() < s.gone;
    if (internal || unavailable) {
      const code = internal ? 500 : 503;
      if (s.burst > 1) this.burst = { code, left: s.burst - 1 };
      return { code };
    }
    if (request.watch) return gone ? { code: 410 } : null;
    if (throttle) return { code: 429, retryAfterSeconds: s.retryAfterSeconds };
    if (conflict && (request.verb === 'update' || request.verb === 'patch')) return { code: 409 };
    return null;
  }
}

/** What a FakeKubeServer needs for a spec: the request hook and the kubelet's faults. */
export function faultOptions(injector: FaultInjector) {
  return {
    intercept: injector.active ? injector.intercept : undefined,
    stuck: injector.spec.stuck,
    ttlImmediate: injector.spec.ttlImmediate,
  };
}

/** Restarts `server` every `spec.restartEveryMs` (none when 0); returns what stops it. */
export function scheduleRestarts(server: { restart(): void }, spec: FaultSpec): () => void {
  if (spec.restartEveryMs <= 0) return () => {};
  const timer = setInterval(() => server.restart(), spec.restartEveryMs);
  timer.unref();
  return () => clearInterval(timer);
}
