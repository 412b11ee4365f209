/**
 * npm run bench:prune [-- --json]: VGG-16 at compression 100, direct and effective pruning time of
 * random/igq, snip and synflow (random initial weights; SNIP reads one batch of random CIFAR-shaped
 * images), and one gradient pass at batch 1 measured in the same run. Target: effective ≤ direct +
 * 5 passes. Both types share the pruner's scoring (`select`, identical work), which runs once and
 * is added to each: direct = select + top-k, effective = select + effective search.
 */
import { architecture } from '../worker/arch/zoo.ts';
import { pruner } from '../worker/pruners/catalog.ts';
import { searchEffective } from '../worker/pruners/prune.ts';
import { pruneContext } from '../worker/pruners/setup.ts';
import { randomDataset } from '../worker/pruners/testing.ts';
import { selectBackend } from '../worker/tf/backend.ts';
import { gradientPassMs, ratio } from './timing.ts';

const json = process.argv.includes('--json');
const log = (line: string) => {
  if (!json) console.log(line);
};
const backend = await selectBackend(process.env.ESWEEP_BACKEND);
const arch = architecture('vgg16');
const compression = 100;
const kept = Math.round(arch.totalParams / compression);
const passMs = await gradientPassMs(arch, 3);
log(`vgg16, backend ${backend.name}: one fwd+bwd pass at batch 1 = ${passMs.toFixed(0)} ms`);

const rows = [];
for (const name of ['random/igq', 'snip', 'synflow']) {
  const algorithm = pruner(name);
  const ctx = await pruneContext({
    arch,
    pruner: algorithm,
    seed: 1,
    dataset: randomDataset(arch, 32, 1),
    scoreBatches: 1,
    scoreBatchSize: 32,
  });
  const started = performance.now();
  const selection = await algorithm.select(ctx, 1 - 1 / compression);
  const selectMs = performance.now() - started;
  let mark = performance.now();
  selection.masksFor(kept);
  const directMs = selectMs + (performance.now() - mark);
  mark = performance.now();
  const search = searchEffective(arch, selection, kept);
  const effectiveMs = selectMs + (performance.now() - mark);
  ctx.dispose();
  const row = {
    pruner: name,
    directMs: Math.round(directMs),
    effectiveMs: Math.round(effectiveMs),
    extraPasses: ratio(effectiveMs - directMs, passMs),
    effectiveCompression: Math.round((arch.totalParams / search.effective) * 100) / 100,
    graphEvaluations: search.graphEvaluations,
    exactEvaluations: search.exactEvaluations,
  };
  rows.push(row);
  log(
    `${name.padEnd(11)} direct ${row.directMs} ms, effective ${row.effectiveMs} ms: +${row.extraPasses} passes (target ≤ 5); ` +
      `effective compression ${row.effectiveCompression} after ${row.graphEvaluations} graph + ${row.exactEvaluations} exact counts`,
  );
}
const pass = rows.every((r) => r.extraPasses <= 5);
if (json) console.log(JSON.stringify({ backend: backend.name, passMs: Math.round(passMs), rows, pass }));
else log(pass ? 'all targets met' : 'TARGET MISSED');
