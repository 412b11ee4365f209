// The event protocol between workers and the ingester (docs/events.md), one zod schema per kind. Subjects
// are `<prefix>.v1.<sweepId>.<trialId>.<kind>` (prefix `esweep`), bodies are JSON
// `{v:1, kind, sweepId, trialId, attempt, incarnation?, seq, time, ...payload}` and the `Nats-Msg-Id`
// header is `<trialId>:<attempt>:[<incarnation>:]<seq>`, the same key the ingester deduplicates on.
import { z } from 'zod';
import {
  checkEvent,
  type DeadLetterReason,
  LIMITS,
  mayHoldBadText,
  textProblem,
  unicodeProblem,
  type ValidationOptions,
} from './validation.ts';

export const PROTOCOL_VERSION = 1;
export const DEFAULT_SUBJECT_PREFIX = 'esweep';
export const DEFAULT_STREAM = 'ESWEEP';

export const EVENT_KINDS = [
  'started',
  'progress',
  'metrics',
  'sparsity',
  'completed',
  'failed',
  'heartbeat',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** Ids travel in subjects: no dots, spaces or wildcards. */
const token = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, _ or -');
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** Steps, sequence numbers, attempts: PostgreSQL `int`. */
const int32 = z
  .number()
  .int()
  .nonnegative()
  .max(2 ** 31 - 1);
/** A finite number, or null for an infinite one (JSON has no Infinity), e.g. compression with nothing left. */
const maybeInfinite = z.number().nullable();
const nameText = z.string().min(1).max(LIMITS.nameChars);
const shortText = z.string().max(LIMITS.nameChars);

const header = {
  v: z.literal(PROTOCOL_VERSION),
  sweepId: token,
  trialId: token,
  attempt: int32.min(1),
  /**
   * Which process of the attempt sent the event: a pod replaced within its attempt numbers its events
   * from 0 again under a new id. Absent from workers that predate it (one process per attempt).
   */
  incarnation: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, _ or -')
    .optional(),
  seq: int32,
  time: z.iso.datetime({ offset: true }),
};

/** Names of the objects a trial stored in the artifact store, e.g. `{masks: '…/masks.npz'}`. */
const artifacts = z.record(nameText, z.string().min(1).max(LIMITS.objectNameChars));

export const layerSchema = z.object({
  name: nameText,
  shape: z.array(int32).max(LIMITS.shapeDims),
  params: count,
  direct: count,
  effective: count,
});

/** Where an attempt runs, beyond its host and backend (see worker/tf/provenance.ts). */
export const provenanceSchema = z.object({
  gpu: z.boolean(),
  device: shortText,
  tfjsVersion: z.string().max(64),
  libtensorflowVersion: z.string().max(64).nullable(),
  imageTag: z.string().max(512).nullable(),
});
export type AttemptProvenance = z.infer<typeof provenanceSchema>;

export const startedSchema = z.object({
  ...header,
  kind: z.literal('started'),
  host: shortText.optional(),
  backend: shortText.optional(),
  provenance: provenanceSchema.optional(),
  jobName: shortText.optional(),
  totalSteps: int32.optional(),
});
export const progressSchema = z.object({
  ...header,
  kind: z.literal('progress'),
  step: int32,
  totalSteps: int32.optional(),
  phase: z.string().max(64).optional(),
});
export const metricPointSchema = z.object({
  step: int32,
  name: z.string().min(1).max(128),
  value: z.number(),
});
export const metricsSchema = z.object({
  ...header,
  kind: z.literal('metrics'),
  points: z.array(metricPointSchema).min(1).max(LIMITS.points),
});
export const sparsitySchema = z.object({
  ...header,
  kind: z.literal('sparsity'),
  layers: z.array(layerSchema).max(LIMITS.layers),
  overall: z.object({
    total: count.optional(),
    direct: count.optional(),
    effective: count.optional(),
    directSparsity: z.number().min(0).max(1),
    effectiveSparsity: z.number().min(0).max(1),
    directCompression: maybeInfinite.optional(),
    effectiveCompression: maybeInfinite.optional(),
  }),
  artifacts: artifacts.optional(),
});
export const completedSchema = z.object({
  ...header,
  kind: z.literal('completed'),
  accuracy: z.number().min(0).max(1),
  bestAccuracy: z.number().min(0).max(1).optional(),
  loss: z.number().nullable().optional(),
  seconds: z.number().nonnegative().optional(),
  directSparsity: z.number().min(0).max(1),
  effectiveSparsity: z.number().min(0).max(1),
  /** params / remaining; derived from the sparsity when absent; null = infinite. */
  directCompression: maybeInfinite.optional(),
  effectiveCompression: maybeInfinite.optional(),
  artifacts: artifacts.optional(),
  /** No path from input to output was left: not trained, accuracy is the constant predictor's. */
  disconnected: z.boolean().optional(),
});
export const failedSchema = z.object({
  ...header,
  kind: z.literal('failed'),
  error: z.string().max(LIMITS.errorChars),
  retryable: z.boolean(),
});
export const heartbeatSchema = z.object({
  ...header,
  kind: z.literal('heartbeat'),
  step: int32.optional(),
});

export const eventSchema = z.discriminatedUnion('kind', [
  startedSchema,
  progressSchema,
  metricsSchema,
  sparsitySchema,
  completedSchema,
  failedSchema,
  heartbeatSchema,
]);

export type TrialEvent = z.infer<typeof eventSchema>;
export type EventOf<K extends EventKind> = Extract<TrialEvent, { kind: K }>;
export type MetricPointInput = z.infer<typeof metricPointSchema>;
export type LayerCounts = z.infer<typeof layerSchema>;
/** What a publisher supplies: the header fields are filled in by the reporter. */
export type EventPayload<K extends EventKind = EventKind> = K extends EventKind
  ? Omit<EventOf<K>, keyof typeof header | 'kind'>
  : never;

export function subjectFor(
  event: Pick<TrialEvent, 'sweepId' | 'trialId' | 'kind'>,
  prefix = DEFAULT_SUBJECT_PREFIX,
): string {
  return `${prefix}.v${PROTOCOL_VERSION}.${event.sweepId}.${event.trialId}.${event.kind}`;
}

/**
 * `<trialId>:<attempt>:<incarnation>:<seq>` (`<trialId>:<attempt>:<seq>` without an incarnation): the
 * Nats-Msg-Id header and the ingester's dedupe key.
 */
export function messageId(event: Pick<TrialEvent, 'trialId' | 'attempt' | 'incarnation' | 'seq'>): string {
  return event.incarnation
    ? `${event.trialId}:${event.attempt}:${event.incarnation}:${event.seq}`
    : `${event.trialId}:${event.attempt}:${event.seq}`;
}

/** Every subject of the protocol under a prefix (the stream's subject filter). */
export function eventSubjects(prefix = DEFAULT_SUBJECT_PREFIX): string {
  return `${prefix}.v${PROTOCOL_VERSION}.>`;
}

export type DecodeResult =
  | { ok: true; event: TrialEvent }
  | { ok: false; reason: DeadLetterReason; detail: string };

export type DecodeOptions = ValidationOptions;

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Validates one message (docs/event-validation.md): its size, UTF-8 JSON without NUL or lone
 * surrogates, a known kind, every field, a subject that names the same sweep, trial and kind as the
 * body, a time between EARLIEST_EVENT_TIME and `now` plus the allowed skew, and figures that agree with
 * each other. Never throws.
 */
export function decodeEvent(subject: string, data: Uint8Array, options: DecodeOptions = {}): DecodeResult {
  if (data.byteLength > LIMITS.messageBytes) {
    return {
      ok: false,
      reason: 'too-large',
      detail: `message of ${data.byteLength} bytes, at most ${LIMITS.messageBytes}`,
    };
  }
  let text: string;
  try {
    text = decoder.decode(data);
  } catch (error) {
    return { ok: false, reason: 'malformed', detail: `not UTF-8: ${(error as Error).message}` };
  }
  const suspect = mayHoldBadText(text);
  const nul = suspect ? textProblem(text) : null;
  if (nul) return { ok: false, reason: 'invalid-text', detail: nul };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: 'malformed', detail: `not JSON: ${(error as Error).message}` };
  }
  const surrogate = suspect ? unicodeProblem(body) : null;
  if (surrogate) return { ok: false, reason: 'invalid-text', detail: surrogate };
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, reason: 'malformed', detail: 'body is not a JSON object' };
  }
  const kind = (body as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !(EVENT_KINDS as readonly string[]).includes(kind)) {
    return {
      ok: false,
      reason: 'unknown-kind',
      detail: `kind ${JSON.stringify(kind)} is not one of ${EVENT_KINDS.join(', ')}`,
    };
  }
  const parsed = eventSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    const tooLarge = issue?.code === 'too_big' && (issue.origin === 'string' || issue.origin === 'array');
    return {
      ok: false,
      reason: tooLarge ? 'too-large' : 'malformed',
      detail: `${where}${issue?.message ?? 'invalid'}`,
    };
  }
  const event = parsed.data;
  const tokens = subject.split('.');
  const tail = tokens.slice(-3);
  if (
    tokens.length < 5 ||
    tokens[tokens.length - 4] !== `v${PROTOCOL_VERSION}` ||
    tail[0] !== event.sweepId ||
    tail[1] !== event.trialId ||
    tail[2] !== event.kind
  ) {
    return {
      ok: false,
      reason: 'subject-mismatch',
      detail: `subject ${subject} does not match the body (${event.sweepId}.${event.trialId}.${event.kind})`,
    };
  }
  const invalid = checkEvent(event, options);
  return invalid ? { ok: false, ...invalid } : { ok: true, event };
}

const encoder = new TextEncoder();

export function encodeEvent(event: TrialEvent): Uint8Array {
  return encoder.encode(JSON.stringify(event));
}

/** params / count, with `null` for infinity (nothing left), as JSON carries it. */
export function compressionFromSparsity(sparsity: number): number | null {
  return sparsity >= 1 ? null : 1 / (1 - sparsity);
}
