// Helpers for tests that drive the real kubernetes client against the fake API server.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import {
  type KubernetesConfig,
  type KubernetesConfigInput,
  parseKubernetesConfig,
} from '../../orchestrator/scheduler/kubernetes/config.ts';
import { type FakeKubeOptions, FakeKubeServer } from './server.ts';

export { waitFor } from '../support/wait.ts';

/** A client configuration for the fake API server at `url` (no credentials: the fake has no auth). */
export function fakeKubeConfig(url: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
    users: [{ name: 'fake' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
    currentContext: 'fake',
  });
  return kc;
}

export interface FakeCluster {
  server: FakeKubeServer;
  /** Backend settings pointing at the fake (plain http, so skipTLSVerify). */
  config: KubernetesConfig;
  dir: string;
  close(): Promise<void>;
}

/**
 * A stand-in worker (`node worker.mjs --trial FILE`): it records its trial and environment in
 * `$OUT_DIR/<run>.json`, then behaves as `trial.seed` says: 0 succeeds, 1 exits 1, 2 exits 2 (bad
 * input), 3 blocks until killed on its first pod and succeeds on the next.
 */
const WORKER = `
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
const trialFile = process.argv[process.argv.indexOf('--trial') + 1];
const trial = JSON.parse(readFileSync(trialFile, 'utf8'));
const out = process.env.OUT_DIR + '/' + process.env.ESWEEP_RUN_NAME;
writeFileSync(out + '.' + (process.env.ESWEEP_POD_NAME ?? 'local') + '.json', JSON.stringify({ trial, env: process.env }));
if (trial.seed === 1) process.exit(1);
if (trial.seed === 2) process.exit(2);
if (trial.seed === 3 && !existsSync(out + '.blocked')) {
  writeFileSync(out + '.blocked', '');
  setInterval(() => {}, 1000);
}
`;

/** Writes the stand-in worker into `dir`; returns the command that runs it. */
export async function writeFakeWorker(dir: string): Promise<string[]> {
  await writeFile(join(dir, 'worker.mjs'), WORKER);
  return [process.execPath, join(dir, 'worker.mjs')];
}

export async function startFakeCluster(
  options: FakeKubeOptions = {},
  config: Partial<KubernetesConfigInput> = {},
): Promise<FakeCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'esweep-fake-kube-'));
  const command = await writeFakeWorker(dir);
  const server = new FakeKubeServer(options);
  const url = await server.start();
  return {
    server,
    dir,
    config: parseKubernetesConfig({
      server: url,
      skipTLSVerify: true,
      namespace: 'esweep-test',
      image: 'esweep-worker:test',
      command,
      env: { OUT_DIR: dir },
      ...config,
    }),
    close: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
