// Rows as Prisma returns them, and the validation of their JSON columns on the way out: a sweep's
// spec and a trial's document and budget are checked against the schemas that wrote them, so a row
// edited by hand (or written by an older version) fails here, naming the row, rather than deep in the
// controller or a worker.
import { z } from 'zod';
import { Budget } from '../../worker/train/settings.ts';
import { TrialSpec } from '../../worker/trial/spec.ts';
import { type SweepFile, sweepFileSchema } from '../sweep/spec.ts';
import type { Attempt, Sweep as SweepRow, Trial as TrialRow } from './generated/prisma/client.ts';
import type { PruningType, SweepStatus } from './generated/prisma/enums.ts';

export type { Attempt, PruningType, SweepRow, SweepStatus, TrialRow };

/** A trial's budget column: the sweep's budget, or `{}` for the reference schedule. */
export const StoredBudget = z.union([Budget, z.strictObject({})]);
export type StoredBudget = z.output<typeof StoredBudget>;

/** A sweep as stored, its spec validated on the way out. */
export type Sweep = Omit<SweepRow, 'spec'> & { spec: SweepFile };

/** A trial as stored, its document and budget validated on the way out. */
export type Trial = Omit<TrialRow, 'params' | 'budget'> & { params: TrialSpec; budget: StoredBudget };

function parseColumn<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.path.length ? `${issue.path.join('.')}: ` : '';
  throw new Error(`${where} does not hold what esweep wrote: ${path}${issue?.message ?? 'invalid'}`);
}

export const sweepSpec = (spec: unknown, sweepId: string) =>
  parseColumn(sweepFileSchema, spec, `sweep ${sweepId}: column spec`);

export const trialDocument = (params: unknown, trialId: string) =>
  parseColumn(TrialSpec, params, `trial ${trialId}: column params`);

export function sweepRecord<R extends { id: string; spec: unknown }>(
  row: R,
): Omit<R, 'spec'> & Pick<Sweep, 'spec'> {
  return { ...row, spec: sweepSpec(row.spec, row.id) };
}

export function trialRecord(row: TrialRow): Trial {
  return {
    ...row,
    params: trialDocument(row.params, row.id),
    budget: parseColumn(StoredBudget, row.budget, `trial ${row.id}: column budget`),
  };
}
