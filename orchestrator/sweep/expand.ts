// Sweep expansion: the cartesian product architecture × pruner × type × target × seed, as pure
// functions of the parsed sweep file. Each trial carries the TrialSpec the worker runs
// (`esweep train --trial FILE.json`), checked by the worker's own schema, and a key hashed from it.

import { InputError } from '../../common/errors.ts';
import { logSpaced } from '../../common/grid.ts';
import { architecture, isConvolutional } from '../../worker/arch/zoo.ts';
import { pruner } from '../../worker/pruners/catalog.ts';
import type { PruningType } from '../../worker/pruners/prune.ts';
import { parseTrial, type TrialSpec } from '../../worker/trial/spec.ts';
import { normalizeNumber, trialKey } from './keys.ts';
import type { SweepFile } from './spec.ts';

/** Above this many trials a sweep is refused unless forced (a typo in a grid gets expensive fast). */
export const DEFAULT_TRIAL_LIMIT = 20_000;

/** A trial as a sweep plans it: the dataset is always named, so that the key and the row name it. */
export type PlannedSpec = TrialSpec & { dataset: string };

export interface PlannedTrial {
  /** Hash of `spec` (see keys.ts). */
  key: string;
  spec: PlannedSpec;
  /** Both forms of the target, whichever was given (dense: sparsity 0, compression 1). */
  targetSparsity: number;
  targetCompression: number;
  /** Key of the trial that must complete first (the dense trial for magnitude/LAMP), else null. */
  dependsOn: string | null;
}

export interface SweepPlan {
  spec: SweepFile;
  trials: PlannedTrial[];
}

export interface ExpandOptions {
  /** Allow more trials than `limit`. */
  force?: boolean;
  limit?: number;
}

type Target = { sparsity: number } | { compression: number };

function targetsOf(spec: SweepFile): Target[] {
  if (spec.sparsities) return unique(spec.sparsities.map(normalizeNumber)).map((sparsity) => ({ sparsity }));
  if (!spec.compressions) return [];
  const values = Array.isArray(spec.compressions)
    ? spec.compressions.map(normalizeNumber)
    : logSpaced(spec.compressions.from, spec.compressions.to, spec.compressions.points).map(normalizeNumber);
  return unique(values).map((compression) => ({ compression }));
}

const unique = <T>(values: T[]) => [...new Set(values)];

const sparsityOf = (target: Target) =>
  'sparsity' in target ? target.sparsity : normalizeNumber(1 - 1 / target.compression);
const compressionOf = (target: Target) =>
  'compression' in target
    ? target.compression
    : target.sparsity === 0
      ? 1
      : normalizeNumber(1 / (1 - target.sparsity));

function datasetFor(spec: SweepFile, arch: string): string | undefined {
  if (typeof spec.dataset === 'string') return spec.dataset;
  return spec.dataset?.[arch];
}

const needsDenseWeights = (prunerName: string) => pruner(prunerName).requires.includes('trainedWeights');
const needsConvolutions = (prunerName: string) => prunerName.endsWith('uniform_plus');

/** Checks that relate several fields; each message names the field and the offending value. */
function validate(spec: SweepFile, source: string): void {
  spec.pruners.forEach((name, k) => {
    if (!needsConvolutions(name)) return;
    const mlp = spec.architectures.find((arch) => !isConvolutional(arch));
    if (mlp) {
      throw new InputError(
        `${source}: pruners[${k}]: '${name}' keeps the first layer dense and needs a convolutional network, but architectures includes '${mlp}'`,
      );
    }
  });
  if (spec.dataset && typeof spec.dataset === 'object') {
    for (const arch of Object.keys(spec.dataset)) {
      if (!spec.architectures.includes(arch as SweepFile['architectures'][number])) {
        throw new InputError(`${source}: dataset.${arch}: '${arch}' is not one of the sweep's architectures`);
      }
    }
  }
  if (spec.pruners.some((name) => name !== 'dense') && !spec.compressions && !spec.sparsities) {
    throw new InputError(`${source}: compressions: is required (or sparsities) for pruners other than dense`);
  }
}

function trialSpecFor(
  sweep: SweepFile,
  arch: string,
  prunerName: string,
  type: PruningType,
  target: Target,
  seed: number,
): PlannedSpec {
  const dataset = datasetFor(sweep, arch) ?? defaultDataset(arch);
  const spec = parseTrial(
    {
      arch,
      dataset,
      pruner: prunerName,
      type,
      ...target,
      seed,
      ...(sweep.budget ? { budget: sweep.budget } : {}),
    },
    `${sweep.name}: trial ${arch}/${prunerName}/${type}/${seed}`,
  );
  return { ...spec, dataset };
}

// The worker's default dataset for each architecture, resolved here so that the key (and the
// database row) name the dataset explicitly.
const defaultDataset = (arch: string) => architecture(arch).dataset;

function planned(spec: PlannedSpec, dependsOn: string | null): PlannedTrial {
  const target: Target =
    spec.compression === undefined ? { sparsity: spec.sparsity ?? 0 } : { compression: spec.compression };
  return {
    key: trialKey(spec),
    spec,
    targetSparsity: sparsityOf(target),
    targetCompression: compressionOf(target),
    dependsOn,
  };
}

/** The dense trial of an architecture and seed: no sparsity target beyond 0, type direct. */
function denseTrial(spec: SweepFile, arch: string, seed: number): PlannedTrial {
  return planned(trialSpecFor(spec, arch, 'dense', 'direct', { sparsity: 0 }, seed), null);
}

/**
 * Expands a parsed sweep into its trials: dense trials first (one per architecture and seed that
 * needs or asks for one), then the product in file order. Keys are unique; the same file always
 * gives the same trials in the same order.
 */
export function expandSweep(spec: SweepFile, options: ExpandOptions = {}, source = 'sweep'): SweepPlan {
  validate(spec, source);
  const targets = targetsOf(spec);
  const architectures = unique(spec.architectures);
  const sparsePruners = unique(spec.pruners.filter((name) => name !== 'dense'));
  const types = unique(spec.types);
  const seeds = unique(spec.seeds);
  const wantsDense = spec.pruners.includes('dense') || sparsePruners.some(needsDenseWeights);
  const limit = options.limit ?? DEFAULT_TRIAL_LIMIT;
  const perSeed = (wantsDense ? 1 : 0) + sparsePruners.length * types.length * targets.length;
  const count = architectures.length * seeds.length * perSeed;
  if (count > limit && !options.force) {
    throw new InputError(
      `${source}: the grid expands to ${count.toLocaleString('en-US')} trials, above the limit of ${limit.toLocaleString('en-US')}; pass --force to submit it anyway`,
    );
  }

  const trials: PlannedTrial[] = [];
  const denseKeys = new Map<string, string>();
  for (const arch of wantsDense ? architectures : []) {
    for (const seed of seeds) {
      const dense = denseTrial(spec, arch, seed);
      denseKeys.set(`${arch}/${seed}`, dense.key);
      trials.push(dense);
    }
  }
  for (const arch of architectures) {
    for (const prunerName of sparsePruners) {
      const dependency = needsDenseWeights(prunerName);
      for (const type of types) {
        for (const target of targets) {
          for (const seed of seeds) {
            const dependsOn = dependency ? denseKeys.get(`${arch}/${seed}`)! : null;
            trials.push(planned(trialSpecFor(spec, arch, prunerName, type, target, seed), dependsOn));
          }
        }
      }
    }
  }
  return { spec, trials };
}
