/**
 * npm run bench:sparsity [-- --json]: exact and channel-graph effective sparsity on VGG-19 and
 * ResNet-18 random masks at 90/99/99.9% sparsity, against one gradient pass of the same network at
 * batch 1 in the same tfjs backend, measured in this run. Targets: exact ≤ 1.5×, graph ≤ 0.1×; the
 * ONNX path (bench/sparsity-onnx.ts) ≤ 2× the zoo analysis.
 */
import { architecture } from '../worker/arch/zoo.ts';
import { Rng, randomMask } from '../worker/random.ts';
import { effectiveConnectivity } from '../worker/sparsity/analysis.ts';
import { selectBackend } from '../worker/tf/backend.ts';
import { describeOnnxRow, onnxPathRow } from './sparsity-onnx.ts';
import { gradientPassMs, medianMs, ratio } from './timing.ts';

const json = process.argv.includes('--json');
const backend = await selectBackend(process.env.ESWEEP_BACKEND);
const rows = [];
for (const name of ['vgg19', 'resnet18']) {
  const arch = architecture(name);
  const baselineMs = await gradientPassMs(arch);
  for (const sparsity of [0.9, 0.99, 0.999]) {
    const rng = new Rng(1);
    const masks = arch.layers.map((l) => randomMask(l.params, Math.round(l.params * (1 - sparsity)), rng));
    const exactMs = await medianMs(() => effectiveConnectivity(arch, masks, 'exact'));
    const graphMs = await medianMs(() => effectiveConnectivity(arch, masks, 'graph'));
    const row = {
      arch: name,
      sparsity,
      baselineMs: Math.round(baselineMs * 10) / 10,
      exactMs: Math.round(exactMs * 10) / 10,
      graphMs: Math.round(graphMs * 10) / 10,
      exactRatio: ratio(exactMs, baselineMs),
      graphRatio: ratio(graphMs, baselineMs),
    };
    rows.push(row);
    if (!json) {
      console.log(
        `${name.padEnd(9)} sparsity ${String(sparsity).padEnd(5)}  exact ${row.exactMs} ms (${row.exactRatio}× baseline, target ≤ 1.5)` +
          `  graph ${row.graphMs} ms (${row.graphRatio}×, target ≤ 0.1)  baseline fwd+bwd ${row.baselineMs} ms`,
      );
    }
  }
}
const onnx = await onnxPathRow();
if (!json) console.log(describeOnnxRow(onnx));
const pass = rows.every((r) => r.exactRatio <= 1.5 && r.graphRatio <= 0.1) && onnx.pass;
if (json) console.log(JSON.stringify({ backend: backend.name, rows, onnx, pass }));
else console.log(`backend ${backend.name}: ${pass ? 'all targets met' : 'TARGET MISSED'}`);
