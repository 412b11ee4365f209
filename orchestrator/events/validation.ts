// What the ingester checks of an event beyond its schema, before the database sees it
// (docs/event-validation.md): the closed set of dead-letter reasons, the size limits, the time window,
// valid Unicode, and the rules that relate an event's figures to each other. Pure and cheap: decodeEvent
// runs it on every message as it arrives, so a message the database would refuse, or one that would
// store nonsense, is parked in microseconds instead of failing a batch.
import { z } from 'zod';

/** Why a message became a dead letter: stored in `dead_letter.reason` and in the DLQ subject. */
export const DEAD_LETTER_REASONS = [
  /** Not UTF-8 JSON, not an object, or a field fails its schema (type, range, integer, finite). */
  'malformed',
  /** `kind` is not one of the protocol's. */
  'unknown-kind',
  /** The subject names another sweep, trial or kind than the body. */
  'subject-mismatch',
  /** Over a size limit: the message, a string or an array (LIMITS). */
  'too-large',
  /** A NUL character or a lone UTF-16 surrogate (`\ud800`): PostgreSQL text and jsonb refuse both. */
  'invalid-text',
  /** `time` before EARLIEST_EVENT_TIME (PostgreSQL refuses year 0; nothing ran then). */
  'bad-time',
  /** `time` later than the receipt time plus the allowed clock skew. */
  'clock-skew',
  /** Figures that contradict each other: effective > direct > params, sparsities, compressions. */
  'inconsistent-counts',
  /** The trial does not exist, or belongs to another sweep. */
  'unknown-trial',
  /** The attempt is newer than any the controller started for the trial (it cannot be its worker's). */
  'stale-attempt',
  /** Same (trial, attempt, seq) as a stored event, different content. */
  'conflict',
  /** Passed every check, yet the database refused it (found by splitting its batch). */
  'rejected',
] as const;
export const deadLetterReasonSchema = z.enum(DEAD_LETTER_REASONS);
export type DeadLetterReason = z.infer<typeof deadLetterReasonSchema>;

/** Size limits, far above what a worker sends, far below what would hurt a batch. */
export const LIMITS = {
  /** A message body, in bytes: NATS's default max_payload. */
  messageBytes: 1024 * 1024,
  /** Names: metric, layer, artifact role, phase, host, backend, job, device. */
  nameChars: 256,
  /** An artifact's object name. */
  objectNameChars: 1024,
  /** A failure's message. */
  errorChars: 16 * 1024,
  /** Artifacts of one event. */
  artifacts: 64,
  /** Curve points of one metrics event (a worker sends at most 500). */
  points: 10_000,
  /** Layers of one sparsity report. */
  layers: 10_000,
  /** Dimensions of a layer's shape. */
  shapeDims: 8,
} as const;

/** Nothing ran before this; PostgreSQL refuses some earlier dates (year 0) outright. */
export const EARLIEST_EVENT_TIME = Date.parse('2000-01-01T00:00:00Z');
/** How far an event's time may lie ahead of its receipt by default. */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 60_000;

export interface ValidationOptions {
  /** Receipt time (ms since the epoch); default now. */
  now?: number;
  /** How far an event's time may lie ahead of `now` (default DEFAULT_MAX_CLOCK_SKEW_MS). */
  maxSkewMs?: number;
}

export interface Invalid {
  reason: DeadLetterReason;
  detail: string;
}

/** The event fields the checks read (a structural view of protocol.ts's TrialEvent). */
interface Figures {
  kind: string;
  time: string;
  layers?: { name: string; params: number; direct: number; effective: number }[];
  overall?: Sparsities & { total?: number; direct?: number; effective?: number };
  directSparsity?: number;
  effectiveSparsity?: number;
  directCompression?: number | null;
  effectiveCompression?: number | null;
  artifacts?: Record<string, string>;
}

interface Sparsities {
  directSparsity: number;
  effectiveSparsity: number;
  directCompression?: number | null;
  effectiveCompression?: number | null;
}

/**
 * Whether a message's text may hold a NUL or a lone surrogate, cheaply: the bytes were strict
 * UTF-8, so a lone surrogate can only come from a `\uD800`–`\uDFFF` escape. Only such texts are
 * looked at closer (textProblem, unicodeProblem).
 */
const SUSPECT_ESCAPE = /\\u(?:0000|[dD][89a-fA-F])/;
export const mayHoldBadText = (text: string): boolean => text.includes('\u0000') || SUSPECT_ESCAPE.test(text);

/** A NUL character in a message's text, raw or escaped (before it is parsed). */
export function textProblem(text: string): string | null {
  if (text.includes('\u0000') || text.includes('\\u0000')) return 'contains a NUL character';
  return null;
}

/** After parsing: where the body holds a lone surrogate, in a string or a key. */
export function unicodeProblem(body: unknown): string | null {
  const where = illFormedAt(body, '');
  return where === null ? null : `${where || 'body'}: contains a lone UTF-16 surrogate`;
}

/** In Unicode mode a surrogate pair is one code point, so this matches lone surrogates only. */
const LONE_SURROGATE = /\p{Cs}/u;

function illFormedAt(value: unknown, path: string): string | null {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? path : null;
  if (value === null || typeof value !== 'object') return null;
  for (const [key, item] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (LONE_SURROGATE.test(key)) return at;
    const found = illFormedAt(item, at);
    if (found !== null) return found;
  }
  return null;
}

/** The time window, the limits zod cannot express, and the rules between an event's figures. */
export function checkEvent(event: Figures, options: ValidationOptions = {}): Invalid | null {
  return checkTime(event.time, options) ?? checkArtifacts(event.artifacts) ?? checkFigures(event);
}

export function checkTime(time: string, options: ValidationOptions = {}): Invalid | null {
  const at = Date.parse(time);
  if (!(at >= EARLIEST_EVENT_TIME)) {
    return {
      reason: 'bad-time',
      detail: `time ${time} is before ${new Date(EARLIEST_EVENT_TIME).toISOString()}`,
    };
  }
  const now = options.now ?? Date.now();
  const skew = options.maxSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
  if (at > now + skew) {
    return {
      reason: 'clock-skew',
      detail: `time ${time} is ${Math.round((at - now) / 1000)} s after its receipt (${new Date(now).toISOString()}); at most ${skew / 1000} s allowed`,
    };
  }
  return null;
}

function checkArtifacts(artifacts: Record<string, string> | undefined): Invalid | null {
  if (!artifacts) return null;
  const n = Object.keys(artifacts).length;
  return n > LIMITS.artifacts
    ? { reason: 'too-large', detail: `artifacts: ${n} entries, at most ${LIMITS.artifacts}` }
    : null;
}

const inconsistent = (detail: string): Invalid => ({ reason: 'inconsistent-counts', detail });

/** Counts are of weights kept: effective ⊆ direct ⊆ params, so effective ≤ direct ≤ params. */
function checkFigures(e: Figures): Invalid | null {
  if (e.kind === 'sparsity' && e.layers && e.overall) {
    let params = 0;
    let direct = 0;
    let effective = 0;
    for (const [i, layer] of e.layers.entries()) {
      const bad = countsProblem(layer.params, layer.direct, layer.effective);
      if (bad) return inconsistent(`layers.${i} (${layer.name}): ${bad}`);
      params += layer.params;
      direct += layer.direct;
      effective += layer.effective;
    }
    const o = e.overall;
    if (o.total !== undefined && o.direct !== undefined && o.effective !== undefined) {
      const bad = countsProblem(o.total, o.direct, o.effective);
      if (bad) return inconsistent(`overall: ${bad}`);
      if (e.layers.length > 0 && (o.total !== params || o.direct !== direct || o.effective !== effective)) {
        return inconsistent(
          `overall (${o.total}, ${o.direct}, ${o.effective}) is not the sum of its layers (${params}, ${direct}, ${effective})`,
        );
      }
      const bad2 = sparsityMatches(o, o.total, o.direct, o.effective);
      if (bad2) return inconsistent(`overall: ${bad2}`);
    }
    const bad = sparsitiesProblem(o);
    return bad ? inconsistent(`overall: ${bad}`) : null;
  }
  if (e.kind === 'completed') {
    const bad = sparsitiesProblem(e as Sparsities);
    return bad ? inconsistent(bad) : null;
  }
  return null;
}

function countsProblem(params: number, direct: number, effective: number): string | null {
  if (direct > params) return `direct ${direct} > params ${params}`;
  if (effective > direct) return `effective ${effective} > direct ${direct}`;
  return null;
}

/** Sparsity is 1 − count/params (rounding aside). */
function sparsityMatches(s: Sparsities, total: number, direct: number, effective: number): string | null {
  if (total === 0) return null;
  const near = (a: number, b: number) => Math.abs(a - b) <= 1e-9;
  if (!near(s.directSparsity, 1 - direct / total)) {
    return `directSparsity ${s.directSparsity} is not 1 − ${direct}/${total}`;
  }
  if (!near(s.effectiveSparsity, 1 - effective / total)) {
    return `effectiveSparsity ${s.effectiveSparsity} is not 1 − ${effective}/${total}`;
  }
  return null;
}

/** Effective sparsity ≥ direct sparsity; compressions ≥ 1 (null = ∞), effective ≥ direct. */
function sparsitiesProblem(s: Sparsities): string | null {
  if (s.effectiveSparsity < s.directSparsity) {
    return `effectiveSparsity ${s.effectiveSparsity} < directSparsity ${s.directSparsity}`;
  }
  const dc = s.directCompression === null ? Number.POSITIVE_INFINITY : s.directCompression;
  const ec = s.effectiveCompression === null ? Number.POSITIVE_INFINITY : s.effectiveCompression;
  for (const [name, c] of [
    ['directCompression', dc],
    ['effectiveCompression', ec],
  ] as const) {
    if (c !== undefined && c < 1) return `${name} ${c} < 1`;
  }
  if (dc !== undefined && ec !== undefined && ec < dc) {
    return `effectiveCompression ${ec} < directCompression ${dc}`;
  }
  return null;
}
