// npm run bench:cli [-- --trials 1000] [--repeats 3]
// Wall time of the read-only sweep commands (status, results, compare) as users run them: a new
// process of the package's executable (bin/esweep.js, which runs the bundle when it is up to date) on
// an embedded (PGlite) database holding one sweep of N trials, half completed. The commands and the
// baseline take turns, so that load changing during the run affects them alike.
// Baseline, measured in the same run: the same process that opens the database, checks that it is
// migrated and asks for a sweep that is not there (no query of the sweep's trials). Target: each
// command ≤ 2 s. Prints TARGET MET or MISSED; exits 1 on a miss.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../orchestrator/cli/run-cli.ts';
import { openDatabase } from '../orchestrator/store/database.ts';
import { migrate } from '../orchestrator/store/migrate.ts';
import { storeOf } from '../orchestrator/store/prisma-store.ts';
import { seedSweep } from '../orchestrator/store/test-support.ts';
import { benchFlags, readFlags, wholeNumber } from './flags.ts';
import { finish, headline, verdict } from './verdict.ts';

const TARGET_SECONDS = 2;
const values = benchFlags({
  name: 'cli',
  about: `Wall time of esweep sweep status|results|compare, each a new process, on an embedded (PGlite)
database of one sweep (half its trials completed). Baseline: the same process asking for a sweep that
is not there. Target: each command ≤ ${TARGET_SECONDS} s; exits 1 on a miss.`,
  flags: {
    trials: { type: 'string', default: '1000', value: 'N', about: "the sweep's trials (≥ 2)" },
    repeats: { type: 'string', default: '3', value: 'N', about: 'interleaved runs of each command (median)' },
    json: { type: 'boolean', default: false, about: 'one JSON line at the end' },
  },
});
const trials = readFlags('cli', () => wholeNumber('trials', values.trials, 2));
const repeats = readFlags('cli', () => wholeNumber('repeats', values.repeats));

const dir = mkdtempSync(join(tmpdir(), 'esweep-bench-cli-'));
const database = `pglite:${join(dir, 'db')}`;
try {
  const db = await openDatabase(database);
  try {
    await migrate(db);
    const repos = storeOf(db);
    const { trialIds } = await seedSweep(repos, trials, 'bench');
    const done = trialIds.slice(0, trials / 2);
    await repos.startAttempts(done.map((trialId) => ({ trialId, attempts: 0, jobName: null })));
    await repos.markTrials(done.map((trialId) => ({ trialId, status: 'completed' as const })));
  } finally {
    await db.close();
  }

  /** Wall seconds of one `esweep ARGS` (expected exit code `code`), through bin/esweep.js. */
  const wall = async (args: string[], code = 0): Promise<number> => {
    const start = performance.now();
    const result = await runCli([...args, '--database', database]);
    const seconds = (performance.now() - start) / 1000;
    if (result.code !== code)
      throw new Error(`esweep ${args.join(' ')}: exit ${result.code}: ${result.stderr}`);
    return seconds;
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

  // bin/esweep.js runs the bundle once it is built from the current sources: the first run builds
  // it if need be; the second says which way users' runs go.
  const debug = { ...process.env, ESWEEP_LAUNCH_DEBUG: '1' };
  await runCli(['--help'], debug);
  const mode = /esweep: launch: (.*)/.exec((await runCli(['--help'], debug)).stderr)?.[1] ?? 'unknown';
  const backend = `embedded PGlite, ${trials} trials, bin/esweep.js → ${mode}, median of ${repeats} interleaved runs`;
  headline('cli', backend, 'wall time of sweep status|results|compare as a new esweep process');
  const commands = ['status', 'results', 'compare'];
  const times = new Map<string, number[]>([
    ['baseline', []],
    ...commands.map((c) => [c, []] as [string, number[]]),
  ]);
  for (let r = 0; r < repeats; r++) {
    times.get('baseline')!.push(await wall(['sweep', 'status', 'no-such-sweep'], 2));
    for (const command of commands)
      times.get(command)!.push(await wall(['sweep', command, 'bench', '--json']));
  }
  const baseline = median(times.get('baseline')!);
  const rows = [];
  for (const command of commands) {
    const seconds = median(times.get(command)!);
    rows.push({ command, seconds, runs: times.get(command) });
    verdict({
      name: `sweep ${command}`,
      figure: `${seconds.toFixed(2)} s (${(seconds / baseline).toFixed(2)}× baseline)`,
      baseline: `open the database, no sweep: ${baseline.toFixed(2)} s`,
      target: `≤ ${TARGET_SECONDS} s`,
      met: seconds <= TARGET_SECONDS,
      backend,
    });
  }
  const summary = finish();
  if (values.json)
    console.log(JSON.stringify({ backend, trials, baselineSeconds: baseline, rows, ...summary }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
