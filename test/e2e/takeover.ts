// Measures how long a takeover takes: three `esweep controller` processes against the fake API
// server and a Postgres database, the leader killed with SIGKILL `--kills` times (then started again
// as a candidate, as a kubelet would). Prints, per kill, the time from the kill to `lead gained` and
// to the end of the successor's first pass, and the bound leaseDuration + retryPeriod.
//   npm run measure:takeover -- [--kills N] [--replicas N]
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bundleCli } from '../../orchestrator/cli/bundle.ts';
import { PROJECT_ROOT } from '../../orchestrator/project-root.ts';
import { createTestDatabase } from '../../orchestrator/store/test-support.ts';
import { startFakeCluster, waitFor } from '../fake-kube/support.ts';
import { ControllerReplica, TEST_TIMING, writeClusterFile } from './controller-processes.ts';

const { values } = parseArgs({
  options: { kills: { type: 'string', default: '5' }, replicas: { type: 'string', default: '3' } },
});
const kills = Number(values.kills);
const count = Number(values.replicas);
const bound = (TEST_TIMING.leaseDuration + TEST_TIMING.retryPeriod) * 1000;
process.stdout.write(
  `takeover: ${count} controller processes, fake API server, Postgres; lease ${TEST_TIMING.leaseDuration} s, renew deadline ${TEST_TIMING.renewDeadline} s, retry ${TEST_TIMING.retryPeriod} s\n`,
);

const bundleDir = join(PROJECT_ROOT, 'dist', `takeover-${randomBytes(4).toString('hex')}`);
const bin = await bundleCli(bundleDir);
const cluster = await startFakeCluster();
const db = await createTestDatabase('takeover');
const replicas: ControllerReplica[] = [];
try {
  const clusterFile = await writeClusterFile(cluster.dir, cluster.config);
  for (let i = 0; i < count; i++)
    replicas.push(new ControllerReplica(`takeover-${i}`, { bin, clusterFile, database: db.url }));
  // As a kubelet would, a replica that exits on its own (fenced: a lost lead) is started again.
  let restarted = 0;
  const supervisor = setInterval(() => {
    for (const r of replicas)
      if (!r.running && r.killedAt === undefined) {
        restarted++;
        r.start();
      }
  }, 200);
  const rows: { gained: number; firstPass: number }[] = [];
  for (let k = 0; k < kills; k++) {
    const leader = await waitFor(
      'a leader past its first pass',
      () =>
        replicas.find(
          (r) =>
            r.leading &&
            r.after(
              Date.parse(r.lines.findLast((l) => l.decision === 'lead gained')!.time),
              (l) => l.msg === 'first pass as leader done',
            ).length > 0,
        ),
      { timeoutMs: 60_000, intervalMs: 50 },
    );
    // Kill at a random point of the renewal cycle, not right after the lead was gained.
    await new Promise((resolve) =>
      setTimeout(resolve, 1000 + Math.random() * TEST_TIMING.retryPeriod * 1000),
    );
    leader.kill();
    const killedAt = leader.killedAt!;
    const successor = await waitFor(
      'a successor',
      () =>
        replicas.find(
          (r) => r !== leader && r.after(killedAt, (l) => l.decision === 'lead gained').length > 0,
        ),
      { timeoutMs: 60_000, intervalMs: 20 },
    );
    const gained = Date.parse(successor.after(killedAt, (l) => l.decision === 'lead gained')[0].time);
    const pass = await waitFor(
      'its first pass',
      () => successor.after(gained, (l) => l.msg === 'first pass as leader done')[0],
      { timeoutMs: 60_000, intervalMs: 20 },
    );
    rows.push({ gained: gained - killedAt, firstPass: Date.parse(pass.time) - killedAt });
    process.stdout.write(
      `kill ${k + 1}: ${leader.identity} killed; ${successor.identity} led after ${gained - killedAt} ms, first pass done after ${Date.parse(pass.time) - killedAt} ms (bound ${bound} ms)\n`,
    );
    await leader.exited;
    leader.killedAt = undefined;
    leader.start();
  }
  clearInterval(supervisor);
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const gained = sorted(rows.map((r) => r.gained));
  const passes = sorted(rows.map((r) => r.firstPass));
  const median = (xs: number[]) => xs[Math.floor(xs.length / 2)];
  process.stdout.write(
    `lead gained after the kill: median ${median(gained)} ms, max ${gained.at(-1)} ms; first pass done: median ${median(passes)} ms, max ${passes.at(-1)} ms; bound ${bound} ms; ${gained.filter((g) => g > bound).length} of ${rows.length} over the bound; ${restarted} replicas restarted after a lost lead\n`,
  );
} catch (error) {
  for (const r of replicas)
    process.stdout.write(
      `${r.identity} exits ${JSON.stringify(r.exits)}:\n${r.lines
        .filter((l) => l.msg !== 'leader observed')
        .slice(-6)
        .map((l) => JSON.stringify(l))
        .join('\n')}\n${r.stderr.slice(-500)}\n`,
    );
  throw error;
} finally {
  for (const r of replicas) if (r.running) r.child.kill('SIGKILL');
  await Promise.all(replicas.map((r) => r.exited));
  await cluster.close();
  await db.dispose();
  await rm(bundleDir, { recursive: true, force: true });
}
