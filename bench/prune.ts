/**
 * npm run bench:prune [-- --json] [-- --quick]: VGG-16 at compression 100, direct and effective
 * pruning time of random/igq, snip and synflow (random initial weights; SNIP reads one batch of
 * random CIFAR-shaped images), and one gradient pass at batch 1 measured in the same run. Target:
 * effective ≤ direct + 5 passes (the paper's extension must cost a small multiple of one pruning,
 * not a retraining). Both types share the pruner's scoring (`select`, identical work), which runs
 * once and is added to each: direct = select + top-k, effective = select + effective search.
 * `--quick` (a smoke run): random/igq only, one timed pass.
 */
import { architecture } from '../worker/arch/zoo.ts';
import { pruner } from '../worker/pruners/catalog.ts';
import { searchEffective } from '../worker/pruners/prune.ts';
import { pruneContext } from '../worker/pruners/setup.ts';
import { randomDataset } from '../worker/pruners/testing.ts';
import { selectBackend } from '../worker/tf/backend.ts';
import { benchFlags } from './flags.ts';
import { gradientPassMs, ratio } from './timing.ts';
import { finish, headline, verdict } from './verdict.ts';

const TARGET_EXTRA_PASSES = 5;

const values = benchFlags({
  name: 'prune',
  about: `Direct and effective pruning time of random/igq, snip and synflow on VGG-16 at compression 100.
Baseline: one fwd+bwd pass at batch 1 in the same tfjs backend (ESWEEP_BACKEND). Target: effective ≤
direct + ${TARGET_EXTRA_PASSES} passes.`,
  flags: {
    quick: { type: 'boolean', default: false, about: 'a smoke run: random/igq only, one timed pass' },
    json: { type: 'boolean', default: false, about: 'one JSON line at the end' },
  },
});
const pruners = values.quick ? ['random/igq'] : ['random/igq', 'snip', 'synflow'];
const backend = await selectBackend(process.env.ESWEEP_BACKEND);
const arch = architecture('vgg16');
const compression = 100;
const kept = Math.round(arch.totalParams / compression);
headline(
  'prune',
  backend.name,
  `direct and effective pruning of vgg16 at compression ${compression} (${pruners.join(', ')}), against one fwd+bwd pass at batch 1`,
);
const passMs = await gradientPassMs(arch, values.quick ? 1 : 3);

const rows = [];
for (const name of pruners) {
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
  verdict({
    name: `${name} effective pruning`,
    figure:
      `${row.effectiveMs} ms vs direct ${row.directMs} ms = direct + ${row.extraPasses} passes ` +
      `(effective compression ${row.effectiveCompression} after ${row.graphEvaluations} graph + ${row.exactEvaluations} exact counts)`,
    baseline: `one fwd+bwd pass ${Math.round(passMs)} ms`,
    target: `≤ direct + ${TARGET_EXTRA_PASSES} passes`,
    met: row.extraPasses <= TARGET_EXTRA_PASSES,
    backend: backend.name,
  });
}
const summary = finish();
if (values.json)
  console.log(JSON.stringify({ backend: backend.name, passMs: Math.round(passMs), rows, ...summary }));
