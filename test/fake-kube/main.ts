// Runs the fake API server on its own (e.g. for bench:controller, so that its CPU is not the
// controller's): `tsx test/fake-kube/main.ts [--instant]` prints its URL and serves until SIGTERM.
import { FakeKubeServer } from './server.ts';

const server = new FakeKubeServer({ mode: process.argv.includes('--instant') ? 'instant' : 'process' });
process.stdout.write(`${await server.start()}\n`);
process.once('SIGTERM', () => {
  server.stop().then(() => process.exit(0));
});
