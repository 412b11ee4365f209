// `esweep nats-bootstrap` writes a trust chain a real nats-server starts with, and ingester
// credentials that server accepts.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Objm } from '@nats-io/obj';
import { connect, credsAuthenticator } from '@nats-io/transport-node';
import { waitFor } from '../../../test/support/wait.ts';
import { AccountSigner, credsFileOptions } from '../../events/credentials.ts';
import { ensureStreams, NatsEventSink } from '../../events/nats.ts';
import { freePort } from '../../events/test-support.ts';

const CLI = fileURLToPath(new URL('../../../bin/esweep.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'esweep-nats-bootstrap-'));
let server: ChildProcess | undefined;
after(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server?.once('exit', resolve));
    server.kill('SIGKILL');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

const bootstrap = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, 'nats-bootstrap', ...args], { encoding: 'utf8', timeout: 60_000 });

test('writes a trust chain a nats-server runs with, and refuses to overwrite it', async () => {
  const port = await freePort();
  const out = join(dir, 'chain');
  const run = bootstrap(
    '--out',
    out,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--store-dir',
    join(dir, 'store'),
    '--json',
  );
  assert.equal(run.status, 0, run.stderr);
  const summary = JSON.parse(run.stdout) as { account: string; files: Record<string, string> };
  assert.equal(statSync(join(out, 'account-signing.nk')).mode & 0o777, 0o600);
  assert.equal(statSync(join(out, 'ingester.creds')).mode & 0o777, 0o600);
  assert.match(summary.files['account-signing.nk'] ?? '', /controller/);

  server = spawn('/usr/sbin/nats-server', ['-c', join(out, 'server.conf')], { stdio: 'ignore' });
  await waitFor(
    'the bootstrapped nats-server to listen',
    () =>
      new Promise<boolean>((resolve) => {
        const socket = connectTcp(port, '127.0.0.1');
        socket.once('connect', () => resolve(socket.destroy() !== undefined));
        socket.once('error', () => resolve(false));
      }),
  );
  const url = `nats://127.0.0.1:${port}`;
  const nc = await connect({
    servers: url,
    maxReconnectAttempts: 0,
    ...credsFileOptions(join(out, 'ingester.creds')),
  });
  try {
    // The ingester sets up the streams and the bucket, and may not publish events.
    await ensureStreams(nc);
    await new Objm(nc).create('esweep-artifacts');
    await assert.rejects(
      new NatsEventSink(nc, 3000).send({
        subject: 'esweep.v1.s.t.started',
        data: new Uint8Array(),
        msgId: 'x',
      }),
      /permission/i,
    );
  } finally {
    await nc.close();
  }
  // The controller's signing key signs users the server accepts.
  const signer = new AccountSigner(readFileSync(join(out, 'account-signing.nk'), 'utf8'), summary.account);
  const user = await signer.mint('probe', {}, new Date(Date.now() + 60_000));
  const probe = await connect({
    servers: url,
    maxReconnectAttempts: 0,
    authenticator: credsAuthenticator(new TextEncoder().encode(user.creds)),
  });
  await probe.close();

  const again = bootstrap('--out', out);
  assert.equal(again.status, 2);
  assert.match(again.stderr, /exists; bootstrap into an empty directory/);
});
