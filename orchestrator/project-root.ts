// The package's root folder (the nearest one above with a package.json). Paths to the repository's
// own files (prisma/, bin/) are resolved from it, so they hold both when running the TypeScript
// sources and from the bundle in dist/ (orchestrator/cli/bundle.ts), whose modules sit elsewhere.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const PROJECT_ROOT = packageRoot(dirname(fileURLToPath(import.meta.url)));

/** The CLI's bin, which child processes run (it compiles the sources with tsx). */
export const ESWEEP_BIN = join(PROJECT_ROOT, 'bin/esweep.js');
