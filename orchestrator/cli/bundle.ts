// The CLI as plain JavaScript for the container images: `npm run build` writes dist/esweep.mjs.
// Running the sources through tsx costs a module-loader thread (Node 20 runs loader hooks in their
// own V8 isolate) and compiling at every start; bench:controller measured the bundle at ≈60 MB less
// peak RSS and half the start-up CPU. Dependencies stay in node_modules (not bundled), and code
// splitting keeps commands lazy: `esweep train` does not load the Kubernetes client or Prisma.
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { PROJECT_ROOT } from '../project-root.ts';

/** Every module but the entry goes one folder down, so the entry is `../esweep.mjs` from any of them. */
const CHUNKS = 'chunks';

/** Bundles the CLI into `outdir` (inside the package, so node_modules resolves); returns the entry. */
export async function bundleCli(outdir: string): Promise<string> {
  await build({
    entryPoints: { esweep: join(PROJECT_ROOT, 'orchestrator/cli/main.ts') },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outExtension: { '.js': '.mjs' },
    chunkNames: `${CHUNKS}/[name]-[hash]`,
    // Tells orchestrator/project-root.ts where the entry is, for the workers it starts.
    define: { ESWEEP_BUNDLE_ENTRY: JSON.stringify('../esweep.mjs') },
    banner: { js: '#!/usr/bin/env node' },
    logLevel: 'warning',
  });
  const entry = join(outdir, 'esweep.mjs');
  await chmod(entry, 0o755);
  return entry;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outdir = join(PROJECT_ROOT, process.argv[2] ?? 'dist');
  process.stdout.write(`${await bundleCli(outdir)}\n`);
}
