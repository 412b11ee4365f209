// A private nats-server in operator mode for tests: a fresh trust chain, the accounts preloaded in a
// MEMORY resolver, JetStream in a temporary store directory, a free port. dispose() kills it and
// removes its files.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../../test/support/wait.ts';
import { AccountSigner, createTrustChain, serverConfig, type TrustChain } from '../credentials.ts';
import { freePort } from '../test-support.ts';

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connectTcp(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

export class OperatorNatsServer {
  private child: ChildProcess | null = null;
  private log = '';

  private constructor(
    readonly chain: TrustChain,
    readonly port: number,
    readonly dir: string,
  ) {}

  /** Starts a server (`NATS_SERVER_BIN`, else /usr/sbin/nats-server) and waits until it listens. */
  static async start(): Promise<OperatorNatsServer> {
    const chain = await createTrustChain();
    const server = new OperatorNatsServer(
      chain,
      await freePort(),
      mkdtempSync(join(tmpdir(), 'esweep-nats-op-')),
    );
    const config = join(server.dir, 'server.conf');
    writeFileSync(config, serverConfig(chain, { port: server.port, storeDir: join(server.dir, 'store') }));
    const child = spawn(process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server', ['-c', config], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    server.child = child;
    child.stderr?.on('data', (chunk: Buffer) => {
      server.log = (server.log + chunk.toString()).slice(-20_000);
    });
    try {
      await waitFor(`nats-server in operator mode on port ${server.port}`, async () => {
        if (child.exitCode !== null) throw new Error(`nats-server exited: ${server.log}`);
        return portOpen(server.port);
      });
    } catch (error) {
      await server.dispose();
      throw error;
    }
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** The controller's side: the account signing key. */
  signer(): AccountSigner {
    return new AccountSigner(this.chain.signingKey.seed, this.chain.account.publicKey);
  }

  /** The server's recent log (stderr), for failure messages. */
  get recentLog(): string {
    return this.log;
  }

  async dispose(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    this.child = null;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
