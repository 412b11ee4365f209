import { statSync } from 'node:fs';
import { z } from 'zod';
import { InputError } from '../../common/errors.ts';
import { MAX_COMPRESSION } from '../../common/limits.ts';
import { parseInput } from '../../common/validation.ts';
import { DATASET_NAMES } from '../../worker/arch/datasets.ts';
import { LAYOUT_NAMES } from '../../worker/arch/layout.ts';
import { ARCHITECTURE_NAMES } from '../../worker/arch/zoo.ts';
import { QUOTA_NAMES } from '../../worker/quotas/quotas.ts';
import { SPARSITY_METHODS } from '../../worker/sparsity/analysis.ts';

/** Schemas for the flags several commands share; commander hands every value over as a string. */
const oneOf = (flag: string, values: readonly string[]) =>
  z.string().refine((v) => values.includes(v), {
    error: (issue) => `unknown ${flag} '${String(issue.input)}' (expected one of ${values.join(', ')})`,
  });

/** A numeric flag; `what` completes "--flag: …" in the error, e.g. 'must be a number ≥ 1'. */
export const numberIn = (what: string, check: (n: number) => boolean) =>
  z
    .string()
    .refine((text) => text.trim() !== '' && Number.isFinite(Number(text)) && check(Number(text)), {
      error: (issue) => `${what}, got '${String(issue.input)}'`,
    })
    .transform(Number);

const isDirectory = (path: string) => statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;

/** A file the command writes: checked before any work, as a directory there would fail at the end. */
export const outputFile = z
  .string()
  .min(1)
  .refine((path) => !isDirectory(path), {
    error: (issue) => `'${String(issue.input)}' is a directory; name a file in it`,
  });

export const flags = {
  arch: oneOf('architecture', ARCHITECTURE_NAMES),
  dataset: oneOf('dataset', DATASET_NAMES),
  layout: oneOf('layout', LAYOUT_NAMES),
  sparsityMethod: oneOf('method', SPARSITY_METHODS),
  quota: oneOf('quota method', QUOTA_NAMES),
  sparsity: numberIn('must be a number in [0, 1]', (n) => n >= 0 && n <= 1),
  compression: numberIn(
    `must be a number in [1, ${MAX_COMPRESSION.toLocaleString('en-US')}]`,
    (n) => n >= 1 && n <= MAX_COMPRESSION,
  ),
  json: z.boolean().optional(),
};

/** `--dense-from` for the option `denseFrom`: the flag a commander option key came from. */
const flagName = (path: readonly PropertyKey[]) =>
  path.length > 0 ? `--${String(path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : '';

/** Validates parsed options; the first problem becomes a one-line input error naming the flag. */
export function parseOptions<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  return parseInput(schema, raw, flagName);
}

/** `--sparsity S` or `--compression C` (exactly one), as a sparsity. */
export function targetSparsity(options: { sparsity?: number; compression?: number }): number {
  if ((options.sparsity === undefined) === (options.compression === undefined)) {
    throw new InputError('give exactly one of --sparsity and --compression');
  }
  return options.sparsity ?? 1 - 1 / options.compression!;
}
