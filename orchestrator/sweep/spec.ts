// The sweep file (docs/sweep-file.md): what a researcher writes. Parsing checks each field on its own (zod);
// checks that relate fields (a pruner that needs a convolutional network) live in validate.ts.
import { z } from 'zod';
import { InputError } from '../../common/errors.ts';
import { MAX_COMPRESSION, MAX_EPOCHS, MAX_ITERATIONS } from '../../common/limits.ts';
import { parseInput, parseYamlText, showValue } from '../../common/validation.ts';
import { DATASET_NAMES } from '../../worker/arch/datasets.ts';
import { ARCHITECTURE_NAMES } from '../../worker/arch/zoo.ts';
import { prunerNames } from '../../worker/pruners/catalog.ts';
import { PRUNING_TYPES } from '../../worker/pruners/prune.ts';
import { Budget } from '../../worker/train/settings.ts';

/**
 * A string from a fixed list; the message names the bad value and the choices. The list is also the
 * JSON Schema's `enum`, so the Sweep resource's schema (crd.ts) refuses the same names.
 */
const oneOf = (what: string, values: () => readonly string[]) =>
  z
    .string()
    .superRefine((value, ctx) => {
      const allowed = values();
      if (!allowed.includes(value)) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown ${what} '${value}' (expected one of ${allowed.join(', ')})`,
        });
      }
    })
    .meta({ enum: [...values()] });

const nonEmptyList = <T extends z.ZodType>(item: T) =>
  z.array(item).min(1, { error: 'must list at least one value (an empty grid has no trials)' });

const finite = (what: string) =>
  z
    .number({ error: (issue) => `${what} must be a number, got ${showValue(issue.input)}` })
    .refine(Number.isFinite, {
      error: (issue) => `${what} must be finite, got ${showValue(issue.input)}`,
    });

// The bounds in `meta` are the refinements' own, for the JSON Schema (refinements do not appear there).
const sparsity = finite('a sparsity')
  .refine((s) => s >= 0 && s < 1, {
    error: (issue) => `a sparsity must lie in [0, 1), got ${showValue(issue.input)}`,
  })
  .meta({ minimum: 0, exclusiveMaximum: 1 });
const compression = finite('a compression')
  .refine((c) => c >= 1, {
    error: (issue) => `a compression must be ≥ 1, got ${showValue(issue.input)}`,
  })
  .refine((c) => c <= MAX_COMPRESSION, {
    error: (issue) =>
      `a compression must be ≤ ${MAX_COMPRESSION.toLocaleString('en-US')} (sparsity ${1 - 1 / MAX_COMPRESSION}), got ${showValue(issue.input)}`,
  })
  .meta({ minimum: 1, maximum: MAX_COMPRESSION });

const budget = Budget.superRefine((b, ctx) => {
  const [field, value, max] =
    'iterations' in b ? ['iterations', b.iterations, MAX_ITERATIONS] : ['epochs', b.epochs, MAX_EPOCHS];
  if (value > max) {
    ctx.addIssue({
      code: 'custom',
      path: [field],
      message: `must be ≤ ${max.toLocaleString('en-US')}, got ${showValue(value)}`,
    });
  }
});

/** `{from, to, points}`: `points` compressions spaced evenly on a log scale, both ends included. */
const logRange = z
  .strictObject({ from: compression, to: compression, points: z.number().int().min(1).max(10_000) })
  .refine((r) => r.to >= r.from, { error: (issue) => `'to' must be ≥ 'from', got ${showValue(issue.input)}` })
  .refine((r) => r.points > 1 || r.to === r.from, {
    error: 'a range with distinct ends needs at least 2 points',
  });

const positiveInt = (what: string) =>
  z.number().int({ error: (issue) => `${what} must be a whole number, got ${showValue(issue.input)}` });

/** Kubernetes resource quantity, e.g. `4`, `500m`, `16Gi`. */
const quantity = z
  .union([z.number().positive(), z.string()])
  .transform(String)
  .refine((q) => /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.test(q), {
    error: (issue) => `not a resource quantity: ${showValue(issue.input)} (e.g. 4, 500m, 16Gi)`,
  });

const resources = z.strictObject({
  gpu: positiveInt('gpu').min(0).default(1),
  cpu: quantity.optional(),
  memory: quantity.optional(),
});

const datasetName = oneOf('dataset', () => DATASET_NAMES);
const architectureName = oneOf('architecture', () => ARCHITECTURE_NAMES);

/** Sweep names become Kubernetes label values and parts of Job names. */
const sweepName = z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/, {
  error: (issue) =>
    `must be 1–63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit; got ${showValue(issue.input)}`,
});

export const sweepFileSchema = z
  .strictObject({
    name: sweepName,
    architectures: nonEmptyList(architectureName),
    pruners: nonEmptyList(oneOf('pruner', prunerNames)),
    types: nonEmptyList(z.enum(PRUNING_TYPES)).default(['direct']),
    compressions: z.union([nonEmptyList(compression), logRange]).optional(),
    sparsities: nonEmptyList(sparsity).optional(),
    /** A list of seeds, or a count n meaning seeds 0…n−1. */
    seeds: z
      .union([nonEmptyList(positiveInt('a seed').min(0)), positiveInt('seeds').min(1)])
      .default([0])
      .transform((s) => (typeof s === 'number' ? Array.from({ length: s }, (_, k) => k) : s)),
    /** The worker's own schema, so a sweep and a trial file accept and word budgets alike. */
    budget: budget.optional(),
    resources: resources.default({ gpu: 1 }),
    maxParallel: positiveInt('maxParallel').min(1).optional(),
    retries: positiveInt('retries').min(0).max(100).default(2),
    /** One dataset for every architecture, or per architecture; otherwise each one's default. */
    dataset: z.union([datasetName, z.record(architectureName, datasetName)]).optional(),
  })
  .superRefine((spec, ctx) => {
    if (spec.compressions !== undefined && spec.sparsities !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['compressions'],
        message: 'give compressions or sparsities, not both',
      });
    }
  });

export type SweepFile = z.output<typeof sweepFileSchema>;

/** Validates an already-parsed document; the first problem becomes one line naming field and value. */
export function parseSweepDocument(document: unknown, source = 'sweep'): SweepFile {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw new InputError(`${source}: a sweep file must be a YAML mapping (name, architectures, pruners, …)`);
  }
  return parseInput(sweepFileSchema, document, source);
}

/** Parses sweep YAML text (`source` names the file in messages). */
export function parseSweepYaml(text: string, source = 'sweep'): SweepFile {
  return parseSweepDocument(parseYamlText(text, source), source);
}
