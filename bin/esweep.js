#!/usr/bin/env node
// The package's executable. It runs the CLI bundle (dist/esweep.mjs, orchestrator/cli/bundle.ts)
// when that was built from the sources as they are now: plain JavaScript starts much sooner than
// the TypeScript compiled by tsx at every start (docs/performance.md). Whether it is up to date is
// told by the list of source files the bundle was built from (dist/esweep.inputs.json), with their
// sizes and modification times: a few milliseconds of `stat`. A missing or stale bundle is rebuilt first (esbuild, about a
// second, once); where that cannot be done (no esbuild in a production install, dist/ not writable,
// another esweep building it right now) the sources run through tsx, as they always can.
// ESWEEP_LAUNCH=sources always runs the sources; ESWEEP_LAUNCH_DEBUG=1 prints which way was taken.
import { mkdirSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const entry = join(dist, 'esweep.mjs');
/** Written by orchestrator/cli/bundle.ts (INPUTS_FILE): `{ inputs: [path, size, mtimeMs][] }`. */
const inputsFile = join(dist, 'esweep.inputs.json');
/** A build lock older than this was left by a killed process. */
const STALE_LOCK_MS = 120_000;

const say = (how) => {
  if (process.env.ESWEEP_LAUNCH_DEBUG) process.stderr.write(`esweep: launch: ${how}\n`);
};

/** Why the bundle cannot run as it is, or null when it was built from the current sources. */
function staleness() {
  let inputs;
  try {
    statSync(entry);
    inputs = JSON.parse(readFileSync(inputsFile, 'utf8')).inputs;
  } catch {
    return 'no bundle';
  }
  if (!Array.isArray(inputs) || inputs.length === 0) return 'no list of sources';
  for (const [path, size, mtimeMs] of inputs) {
    let stat;
    try {
      stat = statSync(join(root, path));
    } catch {
      return `${path} is gone`;
    }
    if (stat.size !== size || stat.mtimeMs !== mtimeMs) return `${path} changed`;
  }
  return null;
}

/** Takes the build lock (a directory); false when another process holds it. */
function lock(path) {
  try {
    mkdirSync(dist, { recursive: true });
    mkdirSync(path);
    return true;
  } catch (error) {
    if (error.code !== 'EEXIST') return false;
    try {
      if (Date.now() - statSync(path).mtimeMs < STALE_LOCK_MS) return false;
      rmdirSync(path);
      mkdirSync(path);
      return true;
    } catch {
      return false;
    }
  }
}

/** Rebuilds the bundle; the reason when it cannot be done here and now, else null. */
async function rebuild() {
  const held = join(dist, '.building');
  if (!lock(held)) return 'another esweep is building it, or dist/ is not writable';
  const { register } = await import('tsx/esm/api');
  const unregister = register();
  try {
    const { bundleCli } = await import('../orchestrator/cli/bundle.ts');
    await bundleCli(dist);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message.split('\n')[0] : String(error);
  } finally {
    await unregister();
    // Taken over meanwhile by a process that thought it stale: its build is as good as this one.
    rmSync(held, { recursive: true, force: true });
  }
}

async function runSources() {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../orchestrator/cli/main.ts');
}

if (process.env.ESWEEP_LAUNCH === 'sources') {
  say('sources (ESWEEP_LAUNCH=sources)');
  await runSources();
} else {
  const stale = staleness();
  if (stale === null) {
    say('bundle');
    await import(pathToFileURL(entry).href);
  } else {
    const failed = await rebuild();
    if (failed === null) {
      say(`rebuilt bundle (${stale})`);
      await import(pathToFileURL(entry).href);
    } else {
      say(`sources (${stale}; not rebuilt: ${failed})`);
      await runSources();
    }
  }
}
