// Generates the Prisma client into orchestrator/store/generated/ (git-ignored), offline.
// `prisma generate` only needs the schema, but the CLI first tries to download its native schema
// engine unless PRISMA_SCHEMA_ENGINE_BINARY names an executable; it is never run by `generate`, so any
// executable will do (migrations go through @prisma/schema-engine-wasm, see orchestrator/store/migrate.ts).
// Skips the work when the schema has not changed since the last generation (`--force` to redo).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const schema = readFileSync(join(root, 'prisma/schema.prisma'));
const prismaPkg = createRequire(import.meta.url).resolve('prisma/package.json');
const version = JSON.parse(readFileSync(prismaPkg, 'utf8')).version;
const stamp = createHash('sha256').update(schema).update(version).digest('hex');
const out = join(root, 'orchestrator/store/generated');
const stampFile = join(out, '.schema-hash');

if (!process.argv.includes('--force') && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) {
  process.exit(0);
}
const result = spawnSync(
  process.execPath,
  [join(dirname(prismaPkg), 'build/index.js'), 'generate', '--schema', join(root, 'prisma/schema.prisma')],
  {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...process.env,
      PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
      CHECKPOINT_DISABLE: '1',
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
    },
  },
);
if (result.status !== 0) process.exit(result.status ?? 1);
writeFileSync(stampFile, stamp);
