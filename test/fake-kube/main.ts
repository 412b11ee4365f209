// Runs the fake API server on its own (e.g. for bench:controller, so that its CPU is not the
// controller's): `tsx test/fake-kube/main.ts [--instant] [--faults SPEC] [--kueue-quota N]` prints its
// URL and serves until SIGTERM. `--help` describes the fault spec (faults.ts).
import { parseArgs } from 'node:util';
import { FAULTS_HELP, FaultInjector, faultOptions, parseFaults, scheduleRestarts } from './faults.ts';
import { FakeKueue } from './kueue.ts';
import { FakeKubeServer } from './server.ts';

const { values } = parseArgs({
  options: {
    instant: { type: 'boolean', default: false },
    faults: { type: 'string' },
    'kueue-quota': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    `fake Kubernetes API server\n  --instant       pods complete at once\n  --kueue-quota N admit Jobs of a Kueue queue N at a time\n${FAULTS_HELP}\n`,
  );
  process.exit(0);
}
const faults = values.faults ? new FaultInjector(parseFaults(values.faults)) : undefined;
const server = new FakeKubeServer({
  mode: values.instant ? 'instant' : 'process',
  ...(faults ? faultOptions(faults) : {}),
});
const kueue = values['kueue-quota'] ? new FakeKueue(server.store, Number(values['kueue-quota'])) : undefined;
process.stdout.write(`${await server.start()}\n`);
const stopRestarts = faults ? scheduleRestarts(server, faults.spec) : () => {};
process.once('SIGTERM', () => {
  stopRestarts();
  kueue?.stop();
  if (faults) process.stderr.write(`${JSON.stringify({ injected: Object.fromEntries(faults.injected) })}\n`);
  server.stop().then(() => process.exit(0));
});
