// Test helpers for NATS: unique stream names and subject prefixes on the shared server, or a private
// nats-server (free port, temporary store directory) that a test may stop and restart.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { resolveNames } from './nats.ts';

export const TEST_NATS_URL = process.env.ESWEEP_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

/** Stream and prefix nobody else uses (e.g. `T3F2A_ESWEEP`, `t3f2a`). */
export function uniqueNames(label = 'test'): { stream: string; prefix: string } {
  const id = `${label}${randomBytes(4).toString('hex')}`.replace(/[^a-z0-9]/gi, '').toLowerCase();
  return { stream: `T_${id.toUpperCase()}`, prefix: `t${id}` };
}

/** Deletes the test's streams (events and dead letters). */
export async function deleteStreams(
  nc: NatsConnection,
  names: { stream: string; prefix: string },
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const r = resolveNames(names);
  for (const stream of [r.stream, r.dlqStream]) await jsm.streams.delete(stream).catch(() => {});
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nats-server did not listen on ${port} within ${timeoutMs} ms`);
}

/** A private nats-server with JetStream (`nats-server` on PATH or /usr/sbin). */
export class NatsServer {
  private child: ChildProcess | null = null;
  readonly storeDir = mkdtempSync(join(tmpdir(), 'esweep-nats-'));

  constructor(readonly port: number) {}

  static async start(): Promise<NatsServer> {
    const server = new NatsServer(await freePort());
    await server.start();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const binary = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';
    this.child = spawn(binary, ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir], {
      stdio: 'ignore',
    });
    await waitForPort(this.port, 10_000);
  }

  /** Stops the server (SIGTERM: a graceful restart; SIGKILL: a crash). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
    this.child = null;
  }

  async dispose(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}
