import { InputError } from '../../common/errors.ts';
import type { Architecture } from '../arch/graph.ts';
import { layerQuotas, QUOTA_NAMES, type QuotaName } from '../quotas/quotas.ts';
import { countKept, denseMasks } from '../sparsity/masks.ts';
import { grasp, snip, snipIterative, synflow } from './gradient-pruners.ts';
import type { PruneContext, Pruner } from './pruner.ts';
import { lampScores, magnitudeScores, randomScores } from './scores.ts';
import { apportion, globalSelection, layerwiseSelection, type Selection } from './selection.ts';

/** Per-layer kept counts for `kept` weights in total under a layerwise quota. */
export function quotaCounts(arch: Architecture, quota: QuotaName) {
  const caps = arch.layers.map((layer) => layer.params);
  return (kept: number) => {
    const sparsities = layerQuotas(arch, quota, 1 - kept / arch.totalParams);
    return apportion(
      sparsities.map((s, k) => (1 - s) * caps[k]),
      kept,
      caps,
    );
  };
}

/** Per-layer kept counts of another selection's masks: a borrowed layerwise quota. */
function borrowedCounts(reference: Selection) {
  return (kept: number) => reference.masksFor(kept).map(countKept);
}

type ScoreFn = (ctx: PruneContext, sparsity: number) => Promise<Float32Array[]>;

function globalPruner(name: string, requires: Pruner['requires'], score: ScoreFn): Pruner {
  return {
    name,
    requires,
    select: async (ctx, sparsity) => globalSelection(ctx.arch, await score(ctx, sparsity)),
  };
}

function quotaPruner(name: string, requires: Pruner['requires'], quota: QuotaName, score: ScoreFn): Pruner {
  return {
    name,
    requires,
    async select(ctx, sparsity) {
      // Fail on an impossible quota (e.g. uniform_plus on an MLP) before any scoring work.
      layerQuotas(ctx.arch, quota, sparsity);
      return layerwiseSelection(await score(ctx, sparsity), quotaCounts(ctx.arch, quota));
    },
  };
}

/** Random masks with the layerwise quotas another pruner's masks have at each candidate count. */
export function randomWithQuotasOf(reference: Pruner): Pruner {
  return {
    name: `random/${reference.name}`,
    requires: reference.requires,
    async select(ctx, sparsity) {
      const referenceSelection = await reference.select(ctx, sparsity);
      return layerwiseSelection(randomScores(ctx.arch, ctx.seed), borrowedCounts(referenceSelection));
    },
  };
}

const random: ScoreFn = async (ctx) => randomScores(ctx.arch, ctx.seed);
const magnitude: ScoreFn = async (ctx) => magnitudeScores(ctx.trainedWeights!);
const lamp: ScoreFn = async (ctx) => lampScores(ctx.trainedWeights!);

const dense: Pruner = {
  name: 'dense',
  requires: [],
  keepsEveryWeight: true,
  select: async (ctx) => ({
    masksFor: () => denseMasks(ctx.arch),
    added: () => [],
  }),
};

const PRUNERS = new Map<string, Pruner>();
function add(...pruners: Pruner[]) {
  for (const pruner of pruners) PRUNERS.set(pruner.name, pruner);
}
add(dense);
for (const quota of QUOTA_NAMES) {
  add(quotaPruner(`random/${quota}`, [], quota, random));
  add(quotaPruner(`magnitude/${quota}`, ['trainedWeights'], quota, magnitude));
}
add(globalPruner('magnitude/global', ['trainedWeights'], magnitude));
add(globalPruner('lamp', ['trainedWeights'], lamp));

add(snip, snipIterative, synflow, grasp, randomWithQuotasOf(snip), randomWithQuotasOf(synflow));

/** The pruner named `name`, if there is one. */
export const knownPruner = (name: string): Pruner | undefined => PRUNERS.get(name);

export function pruner(name: string): Pruner {
  const found = knownPruner(name);
  if (!found)
    throw new InputError(`unknown pruner '${name}' (expected one of ${[...PRUNERS.keys()].join(', ')})`);
  return found;
}

export const prunerNames = () => [...PRUNERS.keys()];
