/**
 * npm run bench:sparsity [-- --json] [-- --quick]: exact and channel-graph effective sparsity on
 * VGG-19 and ResNet-18 random masks at 90/99/99.9% sparsity, against one gradient pass of the same
 * network at batch 1 in the same tfjs backend, measured in this run (the reference implementation's
 * method costs about one such pass). Targets: exact ≤ 1.5× that pass, graph ≤ 0.1× it; the ONNX
 * path (bench/sparsity-onnx.ts: parse + analyze of the VGG-19 export) ≤ 2× the zoo analysis.
 * `--quick` (a smoke run): VGG-19 at 99% only, one timed repeat.
 */
import { architecture } from '../worker/arch/zoo.ts';
import { Rng, randomMask } from '../worker/random.ts';
import { effectiveConnectivity } from '../worker/sparsity/analysis.ts';
import { selectBackend } from '../worker/tf/backend.ts';
import { benchFlags } from './flags.ts';
import { ONNX_TARGET_RATIO, onnxPathRow } from './sparsity-onnx.ts';
import { gradientPassMs, medianMs, ratio } from './timing.ts';
import { finish, headline, verdict } from './verdict.ts';

const EXACT_TARGET = 1.5;
const GRAPH_TARGET = 0.1;

const values = benchFlags({
  name: 'sparsity',
  about: `Exact and channel-graph effective sparsity of random masks on VGG-19 and ResNet-18 at 90/99/99.9 %,
and the ONNX path (parse + analyze of the VGG-19 export). Baseline: one fwd+bwd pass at batch 1 in the
same tfjs backend (ESWEEP_BACKEND). Targets: exact ≤ ${EXACT_TARGET}×, graph ≤ ${GRAPH_TARGET}× that pass; ONNX ≤ ${ONNX_TARGET_RATIO}× the zoo analysis.`,
  flags: {
    quick: { type: 'boolean', default: false, about: 'a smoke run: VGG-19 at 99 % only, one timed repeat' },
    json: { type: 'boolean', default: false, about: 'one JSON line at the end' },
  },
});
const archs = values.quick ? ['vgg19'] : ['vgg19', 'resnet18'];
const sparsities = values.quick ? [0.99] : [0.9, 0.99, 0.999];
const repeats = values.quick ? 1 : 5;
const backend = await selectBackend(process.env.ESWEEP_BACKEND);
headline(
  'sparsity',
  backend.name,
  `exact and graph effective sparsity of random masks on ${archs.join(', ')} at sparsity ${sparsities.join('/')}, ` +
    'against one fwd+bwd pass at batch 1',
);
const round = (ms: number) => Math.round(ms * 10) / 10;
const rows = [];
for (const name of archs) {
  const arch = architecture(name);
  const baselineMs = await gradientPassMs(arch, repeats);
  const baseline = `one fwd+bwd pass ${round(baselineMs)} ms`;
  for (const sparsity of sparsities) {
    const rng = new Rng(1);
    const masks = arch.layers.map((l) => randomMask(l.params, Math.round(l.params * (1 - sparsity)), rng));
    const exactMs = await medianMs(() => effectiveConnectivity(arch, masks, 'exact'), repeats);
    const graphMs = await medianMs(() => effectiveConnectivity(arch, masks, 'graph'), repeats);
    const row = {
      arch: name,
      sparsity,
      baselineMs: round(baselineMs),
      exactMs: round(exactMs),
      graphMs: round(graphMs),
      exactRatio: ratio(exactMs, baselineMs),
      graphRatio: ratio(graphMs, baselineMs),
    };
    rows.push(row);
    verdict({
      name: `${name} exact, sparsity ${sparsity}`,
      figure: `${row.exactMs} ms = ${row.exactRatio}× baseline`,
      baseline,
      target: `≤ ${EXACT_TARGET}× baseline`,
      met: row.exactRatio <= EXACT_TARGET,
      backend: backend.name,
    });
    verdict({
      name: `${name} graph, sparsity ${sparsity}`,
      figure: `${row.graphMs} ms = ${row.graphRatio}× baseline`,
      baseline,
      target: `≤ ${GRAPH_TARGET}× baseline`,
      met: row.graphRatio <= GRAPH_TARGET,
      backend: backend.name,
    });
  }
}
const onnx = await onnxPathRow();
verdict({
  name: `onnx ${onnx.arch} parse + analyze, sparsity ${onnx.sparsity}`,
  figure: `${onnx.onnxMs} CPU ms, ${onnx.ratio}× the zoo analysis (median of ${onnx.pairs / 2} blocks of two interleaved pairs, ${onnx.ratioRange[0]}–${onnx.ratioRange[1]}×; wall ${onnx.wallMs.onnx} ms; reading the file: ${onnx.readMs} ms more)`,
  baseline: `zoo analyze ${onnx.zooMs} CPU ms (wall ${onnx.wallMs.zoo} ms)`,
  target: `≤ ${ONNX_TARGET_RATIO}× the zoo analysis`,
  met: onnx.pass,
  backend: 'JS engine (no tfjs)',
});
const summary = finish();
if (values.json) console.log(JSON.stringify({ backend: backend.name, rows, onnx, ...summary }));
