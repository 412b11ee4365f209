// A stand-in worker for embedded.test.ts: reports one trial through the IPC channel.
import { IpcSink } from '../events/ipc.ts';
import { EventPublisher, TrialReporter } from '../events/publisher.ts';

const [sweepId, trialId] = process.argv.slice(2) as [string, string];
const publisher = new EventPublisher(new IpcSink());
const reporter = new TrialReporter(publisher, { sweepId, trialId, attempt: 1, maxPointsPerEvent: 50 });
await reporter.started({ host: 'child', backend: 'cpu' });
for (let step = 0; step < 500; step++) await reporter.metric(step, 'loss', 1 / (step + 1));
await reporter.sparsity({
  layers: [{ name: 'fc1', shape: [300, 784], params: 235200, direct: 2352, effective: 2000 }],
  overall: { directSparsity: 0.99, effectiveSparsity: 0.9915 },
});
await reporter.completed({ accuracy: 0.95, directSparsity: 0.99, effectiveSparsity: 0.9915, seconds: 1 });
await reporter.flush();
process.disconnect?.();
