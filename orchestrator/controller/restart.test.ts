// Crash safety of the real `esweep controller` process: SIGKILL it mid-sweep, start another one, and the
// sweep completes with exactly one Job per trial (fake API server in instant mode, real PostgreSQL).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type FakeCluster, startFakeCluster, waitFor } from '../../test/fake-kube/support.ts';
import { LABELS } from '../scheduler/kubernetes/manifest.ts';
import { submitPlan } from '../store/plan-records.ts';
import { createTestDatabase, type TestDatabase } from '../store/test-support.ts';
import { expandSweep } from '../sweep/expand.ts';
import { parseSweepYaml } from '../sweep/spec.ts';

const ESWEEP = fileURLToPath(new URL('../../bin/esweep.js', import.meta.url));

// 4 pruners × 2 types × 5 compressions × 2 seeds = 80 trials, at most 8 at once: many passes to kill.
const SWEEP = `
name: ctl-kill
architectures: [lenet300100]
pruners: [random/erk, random/igq, random/uniform, snip]
types: [direct, effective]
compressions: {from: 10, to: 1000, points: 5}
seeds: 2
maxParallel: 8
`;

let cluster: FakeCluster;
let db: TestDatabase;
const children = new Set<ChildProcess>();

before(async () => {
  [cluster, db] = await Promise.all([startFakeCluster({ mode: 'instant' }), createTestDatabase('ctl_kill')]);
});
after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await cluster.close();
  await db.dispose();
});

async function startController(configFile: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [ESWEEP, 'controller', '--cluster', configFile, '--database', db.url, '--metrics-port', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(child);
  child.once('exit', () => children.delete(child));
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  child.stdout!.resume();
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal === null) process.stderr.write(`controller exited ${code}: ${stderr}\n`);
  });
  return child;
}

test('kill -9 mid-sweep and restart: no duplicate Jobs, no lost trials, the sweep completes', async () => {
  const configFile = join(cluster.dir, 'cluster.yaml');
  const { server, skipTLSVerify, namespace, image } = cluster.config;
  await writeFile(configFile, JSON.stringify({ server, skipTLSVerify, namespace, image }));
  const plan = expandSweep(parseSweepYaml(SWEEP));
  const { sweep } = await submitPlan(db.store, plan, 'kubernetes');

  // Every Job ever added (a Job deleted and created again under its name would count twice).
  const added: string[] = [];
  cluster.server.store.subscribe((change) => {
    if (change.resource === 'jobs' && change.type === 'ADDED') added.push(change.object.metadata.name);
  });

  const first = await startController(configFile);
  await waitFor('some Jobs', () => added.length >= 20, 60_000);
  first.kill('SIGKILL');
  await once(first, 'exit');
  const atKill = added.length;
  assert.ok(atKill < plan.trials.length, `killed mid-sweep (${atKill} of ${plan.trials.length} Jobs)`);

  const second = await startController(configFile);
  await waitFor(
    'sweep completed',
    async () => (await db.store.findSweep(sweep.id))?.status === 'completed',
    60_000,
  );
  second.kill('SIGTERM');
  const [code] = await once(second, 'exit');
  assert.equal(code, 0, 'the restarted controller stops cleanly on SIGTERM');

  const trials = await db.store.listTrials(sweep.id);
  assert.equal(trials.length, plan.trials.length);
  assert.deepEqual(
    trials
      .filter((t) => t.status !== 'completed' || t.attempts !== 1)
      .map((t) => [t.key, t.status, t.attempts]),
    [],
    'every trial completed on its first attempt',
  );
  const jobs = cluster.server.store
    .list('jobs', namespace)
    .filter((job) => job.metadata.labels?.[LABELS.sweepId] === sweep.id);
  assert.equal(new Set(added).size, added.length, 'no Job was created twice');
  assert.equal(added.length, trials.length, 'one Job per trial');
  assert.deepEqual(
    jobs.map((job) => job.metadata.labels?.[LABELS.trialId]).sort(),
    trials.map((t) => t.id).sort(),
  );
});
