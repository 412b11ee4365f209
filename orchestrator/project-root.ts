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

/** Defined by the bundle only (orchestrator/cli/bundle.ts): its entry, relative to this module's chunk. */
declare const ESWEEP_BUNDLE_ENTRY: string | undefined;

/**
 * The CLI that child processes (`esweep train` workers) run: the bundle's own entry when this code
 * runs from the bundle (the images hold no bin/ and no tsx), else bin/esweep.js, which compiles the
 * sources with tsx.
 */
export const ESWEEP_BIN =
  typeof ESWEEP_BUNDLE_ENTRY === 'string'
    ? fileURLToPath(new URL(ESWEEP_BUNDLE_ENTRY, import.meta.url))
    : join(PROJECT_ROOT, 'bin/esweep.js');
