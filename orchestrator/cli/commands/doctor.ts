/**
 * `esweep doctor`: can this machine train, and on what? Which tfjs backends load (and the readable
 * reason each that does not), the devices, the versions, and one timed training step per
 * architecture on the chosen backend. The worker image runs `doctor --quick` before each trial, so a
 * node with a broken GPU stack fails its attempt in seconds with the reason in the pod log.
 */

import { version as tfjsVersion } from '@tensorflow/tfjs';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { ARCHITECTURE_NAMES, architecture } from '../../../worker/arch/zoo.ts';
import type { Batch } from '../../../worker/data/index.ts';
import { initialWeights } from '../../../worker/model/init.ts';
import { Model } from '../../../worker/model/model.ts';
import { Rng } from '../../../worker/random.ts';
import { BackendName, type BackendProbe, probeBackends, selectBackend } from '../../../worker/tf/backend.ts';
import { type Device, listDevices } from '../../../worker/tf/devices.ts';
import { type Provenance, runtimeProvenance } from '../../../worker/tf/provenance.ts';
import { trainingFitProblem } from '../../../worker/train/footprint.ts';
import { MOMENTUM, referenceSettings } from '../../../worker/train/settings.ts';
import { createTrainer } from '../../../worker/train/trainer.ts';
import { numberIn, parseOptions } from '../options.ts';
import { printJson, renderTable } from '../output.ts';

/** Exit code when the requested backend (or the best available one) cannot train. */
export const DOCTOR_FAILED_EXIT_CODE = 1;

/** `--quick` checks only the LeNets: seconds on any backend, and they still run conv kernels. */
const QUICK_ARCHITECTURES = ['lenet300100', 'lenet5'] as const;

export interface StepCheck {
  arch: string;
  dataset: string;
  batch: number;
  /** Seconds of one forward+backward+update step, after one warm-up step. */
  seconds?: number;
  /** The loss of the timed step (random data, so about ln(classes)). */
  loss?: number;
  /** Why the step was not run: it cannot fit on this backend (one line with the way out). */
  refused?: string;
  /** The step ran and failed: the backend is broken for this network. */
  error?: string;
}

export interface DoctorReport {
  /** Whether the requested backend loads and every step that was run succeeded. */
  ok: boolean;
  /** The backend asked for, or 'auto' for the best available one. */
  requested: BackendName | 'auto';
  /** The backend the steps ran on; null when the requested one is not usable. */
  selected: BackendName | null;
  versions: { node: string; tfjs: string; libtensorflow: string | null };
  backends: BackendProbe[];
  devices: Device[];
  provenance: Provenance | null;
  steps: StepCheck[];
  /** Why the backend does not work, in one line; null when ok. */
  problem: string | null;
}

export interface DoctorOptions {
  backend?: BackendName;
  quick?: boolean;
  /** The batch size of every step; each architecture's reference batch size when omitted. */
  batch?: number;
}

/** A batch of random images and labels for the architecture's input. */
function randomBatch(input: readonly number[], classes: number, size: number): Batch {
  const rng = new Rng(size);
  const pixels = size * input.reduce((a, b) => a * b, 1);
  return {
    size,
    images: Float32Array.from({ length: pixels }, () => rng.next() * 2 - 1),
    labels: Int32Array.from({ length: size }, () => rng.int(classes)),
  };
}

/** One warm-up step, then one timed step of the dense (unmasked) network on random data. */
async function timeStep(archName: string, backend: BackendName, batchOverride?: number): Promise<StepCheck> {
  const arch = architecture(archName);
  const settings = referenceSettings(archName);
  const batch = batchOverride ?? settings.batchSize;
  const check: StepCheck = { arch: arch.name, dataset: arch.dataset, batch };
  const refused = trainingFitProblem(arch, batch, backend);
  if (refused) return { ...check, refused };
  const model = new Model(arch, initialWeights(arch, 0));
  const masks = arch.layers.map((layer) => new Uint8Array(layer.params).fill(1));
  const trainer = createTrainer(model, masks, { momentum: MOMENTUM, weightDecay: settings.weightDecay });
  try {
    const data = randomBatch(arch.input, arch.classes, batch);
    trainer.step(data, settings.learningRate);
    await trainer.drainLoss();
    const start = performance.now();
    trainer.step(data, settings.learningRate);
    const { sum } = await trainer.drainLoss();
    return { ...check, seconds: (performance.now() - start) / 1000, loss: sum };
  } catch (error) {
    return { ...check, error: (error instanceof Error ? error.message : String(error)).split('\n')[0] };
  } finally {
    trainer.dispose();
    model.dispose();
  }
}

export async function runDoctor(options: DoctorOptions = {}): Promise<DoctorReport> {
  const backends = await probeBackends();
  const usable = backends.filter((probe) => probe.usable).map((probe) => probe.name);
  const requested = options.backend ?? 'auto';
  const selected =
    options.backend === undefined
      ? (usable[0] ?? null)
      : usable.includes(options.backend)
        ? options.backend
        : null;
  const report: DoctorReport = {
    ok: false,
    requested,
    selected,
    versions: { node: process.version, tfjs: tfjsVersion.tfjs, libtensorflow: null },
    backends,
    devices: listDevices(),
    provenance: null,
    steps: [],
    problem: null,
  };
  if (selected === null) {
    const probe = backends.find((b) => b.name === options.backend);
    report.problem = probe && !probe.usable ? probe.reason : 'no tfjs backend could be initialized';
    return report;
  }
  const choice = await selectBackend(selected);
  report.provenance = runtimeProvenance(choice);
  report.versions.libtensorflow = report.provenance.libtensorflowVersion;
  if (selected === 'gpu' && !report.provenance.gpu) {
    report.problem = 'tfjs-node-gpu loaded but computes on the CPU: libtensorflow found no usable GPU';
    return report;
  }
  const names = options.quick ? QUICK_ARCHITECTURES : ARCHITECTURE_NAMES;
  for (const name of names) report.steps.push(await timeStep(name, selected, options.batch));
  const failed = report.steps.find((step) => step.error !== undefined);
  report.problem = failed ? `${failed.arch} training step failed: ${failed.error}` : null;
  report.ok = failed === undefined;
  return report;
}

const GIB = 2 ** 30;

function printReport(report: DoctorReport): void {
  const out = process.stdout;
  const { versions } = report;
  const libtensorflow = versions.libtensorflow ? `, libtensorflow ${versions.libtensorflow}` : '';
  out.write(`esweep doctor: Node ${versions.node}, tfjs ${versions.tfjs}${libtensorflow}\n\n`);
  out.write(
    renderTable(
      [
        { header: 'backend', align: 'left' },
        { header: 'usable', align: 'left' },
        { header: 'why not', align: 'left' },
      ],
      report.backends.map((b) => [b.name, b.usable ? 'yes' : 'no', b.usable ? '' : b.reason]),
    ),
  );
  out.write(
    `\n${renderTable(
      [
        { header: 'device', align: 'left' },
        { header: 'name', align: 'left' },
        { header: 'memory' },
        { header: '', align: 'left' },
      ],
      report.devices.map((d) => [d.kind, d.name, `${(d.memoryBytes / GIB).toFixed(1)} GiB`, d.detail]),
    )}`,
  );
  if (report.provenance)
    out.write(`\nrunning on: ${report.provenance.backend} (${report.provenance.device})\n`);
  if (report.steps.length > 0) {
    out.write(`\none training step (forward, backward, update) on random data, on ${report.selected}:\n`);
    out.write(
      renderTable(
        [
          { header: 'network', align: 'left' },
          { header: 'batch' },
          { header: 'seconds' },
          { header: '', align: 'left' },
        ],
        report.steps.map((s) => [
          `${s.arch} on ${s.dataset}`,
          String(s.batch),
          s.seconds === undefined ? '-' : s.seconds.toFixed(3),
          s.refused ?? (s.error ? `FAILED: ${s.error}` : `loss ${s.loss?.toFixed(3)}`),
        ]),
      ),
    );
  }
  const subject =
    report.requested === 'auto' ? 'the best available backend' : `backend '${report.requested}'`;
  const verdict = report.ok
    ? `${subject} works: ${report.selected}`
    : `${subject} does not work: ${report.problem}`;
  out.write(`\n${verdict}\n`);
}

const schema = z.object({
  backend: BackendName.optional(),
  quick: z.boolean().optional(),
  batch: numberIn('must be a whole number ≥ 1', (n) => Number.isInteger(n) && n >= 1).optional(),
  json: z.boolean().optional(),
});

export function register(program: Command): void {
  program
    .command('doctor')
    .description(
      'which tfjs backends load here and why not, the devices, versions, and a timed training step per ' +
        `architecture (exit code 0: the backend works; ${DOCTOR_FAILED_EXIT_CODE}: it does not)`,
    )
    .addOption(
      new Option(
        '--backend <name>',
        'check this backend: gpu, node, wasm or cpu (default: the best available)',
      ),
    )
    .option(
      '--quick',
      `time only ${QUICK_ARCHITECTURES.join(' and ')} (seconds; what the worker image runs before each trial)`,
    )
    .option('--batch <n>', "batch size of every step (default: each architecture's reference batch size)")
    .option('--json', 'print one JSON document')
    .action(async (raw: object) => {
      const options = parseOptions(schema, raw);
      const report = await runDoctor(options);
      if (options.json) printJson(report);
      else printReport(report);
      if (!report.ok) process.exitCode = DOCTOR_FAILED_EXIT_CODE;
    });
}
