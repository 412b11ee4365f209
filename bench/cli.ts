// npm run bench:cli [-- --trials 1000] [--repeats 3]
// Wall time of the read-only sweep commands (status, results, compare) as users run them: a new
// `esweep` process on an embedded (PGlite) database holding one sweep of N trials, half completed.
// Baseline, measured in the same run: the same process that opens the database, checks that it is
// migrated and asks for a sweep that is not there (no query of the sweep's trials). Target: each
// command ≤ 2 s. Prints TARGET MET or MISSED; exits 1 on a miss.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runCli } from '../orchestrator/cli/run-cli.ts';
import { openDatabase } from '../orchestrator/store/database.ts';
import { migrate } from '../orchestrator/store/migrate.ts';
import { storeOf } from '../orchestrator/store/prisma-store.ts';
import { seedSweep } from '../orchestrator/store/test-support.ts';
import { readFlags, wholeNumber } from './flags.ts';
import { finish, headline, verdict } from './verdict.ts';

const TARGET_SECONDS = 2;
const { values } = readFlags('cli', () =>
  parseArgs({
    options: {
      trials: { type: 'string', default: '1000' },
      repeats: { type: 'string', default: '3' },
      json: { type: 'boolean', default: false },
    },
  }),
);
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

  /** Median wall seconds of `esweep ARGS` (expected exit code `code`). */
  const wall = async (args: string[], code = 0): Promise<number> => {
    const times: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const start = performance.now();
      const result = await runCli([...args, '--database', database]);
      times.push((performance.now() - start) / 1000);
      if (result.code !== code)
        throw new Error(`esweep ${args.join(' ')}: exit ${result.code}: ${result.stderr}`);
    }
    return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
  };

  const backend = `embedded PGlite, ${trials} trials, median of ${repeats} runs`;
  headline('cli', backend, 'wall time of sweep status|results|compare as a new esweep process');
  const baseline = await wall(['sweep', 'status', 'no-such-sweep'], 2);
  const rows = [];
  for (const command of ['status', 'results', 'compare']) {
    const seconds = await wall(['sweep', command, 'bench', '--json']);
    rows.push({ command, seconds });
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
