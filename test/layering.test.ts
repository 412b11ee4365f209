// The layer rules of `npm run lint` fire: the depcruise step of the lint script, run with the
// repository's config on a small tree of deliberate violations (and allowed imports beside them),
// fails and names exactly the violations.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';

const ROOT = join(import.meta.dirname, '..');

/** Each file imports the listed paths (`type:` for a type-only import). */
const TREE: Record<string, string[]> = {
  // Allowed: downward across and inside layers, tests anywhere, the store above sweep.
  'common/format.ts': [],
  'worker/random.ts': ['common/format.ts'],
  'worker/arch/zoo.ts': ['common/format.ts', 'worker/random.ts'],
  'worker/trial/spec.ts': ['worker/train/settings.ts', 'worker/arch/zoo.ts'],
  'worker/train/settings.ts': ['worker/arch/zoo.ts'],
  'worker/train/step.ts': [],
  'worker/train/trainer.ts': ['worker/train/host/trainer.ts', 'type:worker/train/step.ts'],
  'worker/train/host/trainer.ts': ['type:worker/train/step.ts'],
  'worker/trial/spec.test.ts': ['orchestrator/cli/main.ts', 'test/support.ts'],
  'orchestrator/cli/main.ts': ['orchestrator/run/local.ts', 'worker/trial/spec.ts'],
  'orchestrator/run/local.ts': ['orchestrator/scheduler/backend.ts', 'orchestrator/store/store.ts'],
  'orchestrator/scheduler/backend.ts': ['orchestrator/sweep/expand.ts', 'type:worker/trial/spec.ts'],
  'orchestrator/sweep/expand.ts': ['orchestrator/project-root.ts'],
  'orchestrator/store/store.ts': ['orchestrator/store/database.ts', 'orchestrator/sweep/expand.ts'],
  'orchestrator/store/database.ts': [
    'type:orchestrator/store/types.ts',
    'orchestrator/store/generated/prisma/client.ts',
  ],
  'orchestrator/store/generated/prisma/client.ts': [],
  'orchestrator/store/types.ts': [],
  'orchestrator/project-root.ts': [],
  'test/support.ts': ['orchestrator/cli/main.ts'],
  'bench/train.ts': ['orchestrator/store/test-support.ts'],
  'orchestrator/store/test-support.ts': ['orchestrator/store/database.ts'],
  'infra/stack.ts': ['dashboards/index.ts'],
  'dashboards/index.ts': ['orchestrator/store/types.ts'],
  // Violations.
  'common/validation.ts': ['worker/arch/zoo.ts'],
  'worker/arch/graph.ts': ['orchestrator/project-root.ts'],
  'worker/report/reporter.ts': ['type:worker/trial/spec.ts'],
  'worker/train/host/network.ts': ['worker/train/trainer.ts'],
  'orchestrator/run/tables.ts': ['orchestrator/cli/main.ts'],
  'orchestrator/query/index.ts': ['orchestrator/scheduler/backend.ts'],
  'orchestrator/cli/options.ts': ['orchestrator/store/test-support.ts'],
  'orchestrator/sweep/load.ts': ['orchestrator/store/store.ts'],
  'orchestrator/scheduler/names.ts': ['orchestrator/store/generated/prisma/client.ts'],
  'orchestrator/attic/old.ts': ['orchestrator/store/database.ts'],
  'orchestrator/paths.ts': ['orchestrator/sweep/expand.ts'],
  'orchestrator/events/a.ts': ['type:orchestrator/events/b.ts'],
  'orchestrator/events/b.ts': ['type:orchestrator/events/a.ts'],
};

const EXPECTED = [
  'common-imports-downward common/validation.ts → worker/arch/zoo.ts',
  'worker-imports-downward worker/arch/graph.ts → orchestrator/project-root.ts',
  'worker-tier-data-masks-quotas-report-onnx worker/report/reporter.ts → worker/trial/spec.ts',
  'worker-train-host-below-trainer worker/train/host/network.ts → worker/train/trainer.ts',
  'orchestrator-tier-run orchestrator/run/tables.ts → orchestrator/cli/main.ts',
  'orchestrator-tier-query-scheduler orchestrator/query/index.ts → orchestrator/scheduler/backend.ts',
  'production-imports-no-tests orchestrator/cli/options.ts → orchestrator/store/test-support.ts',
  'orchestrator-tier-events-sweep orchestrator/sweep/load.ts → orchestrator/store/store.ts',
  'only-store-touches-the-database orchestrator/scheduler/names.ts → orchestrator/store/generated/prisma/client.ts',
  'orchestrator-folder-without-tier orchestrator/attic/old.ts → orchestrator/store/database.ts',
  'orchestrator-root-imports-no-folder orchestrator/paths.ts → orchestrator/sweep/expand.ts',
  'no-circular orchestrator/events/a.ts → orchestrator/events/b.ts',
];

function moduleText(file: string, imports: string[]): string {
  const fromHere = (target: string) => {
    const up = file.split('/').length - 1;
    return `${'../'.repeat(up) || './'}${target}`;
  };
  const lines = imports.map((target, k) =>
    target.startsWith('type:')
      ? `import type { T${k} } from '${fromHere(target.slice(5))}';`
      : `import { v${k} } from '${fromHere(target)}';`,
  );
  return `${lines.join('\n')}\nexport {};\n`;
}

/** The depcruise step of `npm run lint`, as package.json writes it. */
function lintDepcruiseArgs(): string[] {
  const scripts = z
    .object({ scripts: z.object({ lint: z.string() }) })
    .parse(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))).scripts;
  const step = scripts.lint
    .split('&&')
    .map((part) => part.trim())
    .find((part) => part.startsWith('depcruise '));
  assert.ok(step, 'npm run lint runs depcruise');
  return step.split(/\s+/).slice(1);
}

describe('layering rules (dependency-cruiser in npm run lint)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'esweep-layering-'));
    for (const [file, imports] of Object.entries(TREE)) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), moduleText(file, imports));
    }
    copyFileSync(join(ROOT, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'));
    copyFileSync(join(ROOT, 'tsconfig.json'), join(dir, 'tsconfig.json'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a tree with violations fails lint, and each violation (only those) is named', () => {
    const run = spawnSync(join(ROOT, 'node_modules/.bin/depcruise'), lintDepcruiseArgs(), {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.notEqual(run.status, 0, `lint passed:\n${run.stdout}${run.stderr}`);
    // `error RULE: FROM → TO`; a cycle continues on the next lines (its first step is kept).
    const found = [...run.stdout.matchAll(/error (\S+): (\S+) →\s+(\S+)/g)].map(
      ([, rule, from, to]) => `${rule} ${from} → ${to}`,
    );
    assert.deepEqual(found.sort(), [...EXPECTED].sort());
  });
});
