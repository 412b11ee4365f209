// The CLI as plain JavaScript: `npm run build` writes dist/esweep.mjs, which the images run, and
// bin/esweep.js runs it too while it is up to date with the sources (it rebuilds it when not).
// Running the sources through tsx costs a module-loader thread (Node 20 runs loader hooks in their
// own V8 isolate) and compiling at every start (docs/performance.md has the figures). Dependencies stay in
// node_modules (not bundled), and code splitting keeps commands lazy: `esweep train` does not load
// the Kubernetes client or Prisma.
//
// Beside the entry, `esweep.inputs.json` lists every source file the bundle was built from with its
// size and modification time: bin/esweep.js compares them with the files (a few milliseconds of
// `stat`) to tell whether the bundle is stale.
import { statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { PROJECT_ROOT } from '../project-root.ts';

/** Every module but the entry goes one folder down, so the entry is `../esweep.mjs` from any of them. */
const CHUNKS = 'chunks';
export const ENTRY = 'esweep.mjs';
/** The sources a bundle was built from (read by bin/esweep.js; keep the two in step). */
export const INPUTS_FILE = 'esweep.inputs.json';

/** `[path relative to the package, size, mtimeMs]` of each source file. */
export type BundleInput = [string, number, number];

/**
 * Bundles the CLI into `outdir` (inside the package, so node_modules resolves); returns the entry.
 * The files are built in a folder beside them and renamed into place, chunks first and the inputs
 * list last, so that a process starting meanwhile runs either the old bundle or the new one, or finds
 * the bundle stale; chunk names carry a content hash, so a process still running the old bundle finds
 * its chunks.
 */
export async function bundleCli(outdir: string): Promise<string> {
  await mkdir(join(outdir, CHUNKS), { recursive: true });
  const staging = await mkdtemp(join(outdir, '.staging-'));
  try {
    const { metafile } = await build({
      entryPoints: { esweep: join(PROJECT_ROOT, 'orchestrator/cli/main.ts') },
      outdir: staging,
      absWorkingDir: PROJECT_ROOT,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      outExtension: { '.js': '.mjs' },
      chunkNames: `${CHUNKS}/[name]-[hash]`,
      // Tells orchestrator/project-root.ts where the entry is, for the workers it starts.
      define: { ESWEEP_BUNDLE_ENTRY: JSON.stringify(`../${ENTRY}`) },
      banner: { js: '#!/usr/bin/env node' },
      metafile: true,
      logLevel: 'warning',
    });
    // Paths relative to absWorkingDir, with forward slashes.
    const inputs: BundleInput[] = Object.keys(metafile.inputs).map((path) => {
      const { size, mtimeMs } = statSync(join(PROJECT_ROOT, path));
      return [path, size, mtimeMs];
    });
    // A CLI without lazy imports has no chunks.
    const chunks = await readdir(join(staging, CHUNKS)).catch(() => [] as string[]);
    for (const chunk of chunks) await rename(join(staging, CHUNKS, chunk), join(outdir, CHUNKS, chunk));
    await chmod(join(staging, ENTRY), 0o755);
    await rename(join(staging, ENTRY), join(outdir, ENTRY));
    await writeFile(join(staging, INPUTS_FILE), `${JSON.stringify({ inputs })}\n`);
    await rename(join(staging, INPUTS_FILE), join(outdir, INPUTS_FILE));
    await pruneChunks(join(outdir, CHUNKS), new Set(chunks));
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return join(outdir, ENTRY);
}

/** Chunks of earlier builds are kept a day, for processes still running those builds. */
const OLD_CHUNK_MS = 24 * 3600 * 1000;

async function pruneChunks(dir: string, current: Set<string>): Promise<void> {
  for (const chunk of await readdir(dir)) {
    if (current.has(chunk)) continue;
    const path = join(dir, chunk);
    const { mtimeMs } = await stat(path).catch(() => ({ mtimeMs: Date.now() }));
    if (Date.now() - mtimeMs > OLD_CHUNK_MS) await rm(path, { force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outdir = join(PROJECT_ROOT, process.argv[2] ?? 'dist');
  process.stdout.write(`${await bundleCli(outdir)}\n`);
}
