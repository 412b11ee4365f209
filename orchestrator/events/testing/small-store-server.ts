// A private nats-server for tests and benches whose JetStream store is small enough to fill: a free
// port, a temporary store directory; dispose() kills it and removes its files.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../../test/support/wait.ts';
import { connectNats } from '../nats.ts';
import { freePort } from '../test-support.ts';

/** A nats-server whose JetStream file store holds at most `maxFileStore` bytes. */
export async function smallStoreServer(maxFileStore: number) {
  const dir = mkdtempSync(join(tmpdir(), 'esweep-small-nats-'));
  const port = await freePort();
  const conf = join(dir, 'nats.conf');
  writeFileSync(
    conf,
    `listen: 127.0.0.1:${port}\njetstream {\n  store_dir: ${join(dir, 'js')}\n  max_file_store: ${maxFileStore}\n  max_memory_store: 1048576\n}\n`,
  );
  const child: ChildProcess = spawn(process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server', ['-c', conf], {
    stdio: 'ignore',
  });
  const url = `nats://127.0.0.1:${port}`;
  await waitFor(
    'the small-store nats-server',
    async () =>
      connectNats({ servers: url, deadlineMs: 200 }).then(
        (nc) => nc.close().then(() => true),
        () => false,
      ),
    { timeoutMs: 15_000, intervalMs: 100 },
  );
  return {
    url,
    async dispose() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
