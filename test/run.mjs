// Runs every *.test.ts file with node's own test runner (Node 20 has no glob support in --test).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const roots = ['common', 'worker', 'orchestrator', 'bench', 'dashboards', 'infra', 'prisma', 'test'];
const skip = new Set(['node_modules', 'generated']);

function collect(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (skip.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const filter = process.argv.slice(2);
const files = roots
  .flatMap((root) => collect(root, []))
  .filter((file) => filter.length === 0 || filter.some((f) => file.includes(f)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(2);
}
// Each test has a timeout (see test-timeout.mjs), and a file whose tests are done exits even if a
// timed-out test left something holding its event loop.
const timeouts = pathToFileURL(join(import.meta.dirname, 'support', 'test-timeout.mjs')).href;
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--import', timeouts, '--test', '--test-force-exit', ...files],
  {
    stdio: 'inherit',
  },
);
process.exit(result.status ?? 1);
