// Preloaded into every test file by test/run.mjs (`--import`): every test and hook that names no
// timeout of its own gets DEFAULT_MS, so a hang fails that test instead of holding CI until its job
// limit. Node 20's `--test-timeout` cannot do this: under `--test` it bounds each whole file.
// node:test's named exports are rebound through the builtin's CommonJS object, which
// syncBuiltinESMExports() copies into the ESM bindings that test files import. The price: the
// runner reports this file as the `location` of each test (the test's name and file still say
// which test it is; the stack of a failure points into the test itself).
import { createRequire, syncBuiltinESMExports } from 'node:module';

/**
 * Generous for the slowest tests that name no timeout (the pipeline tests against NATS and
 * PostgreSQL allow their waits 262 s in all); tests that may need longer name their own
 * (the ingester crash test, the kubernetes e2e test). ESWEEP_TEST_TIMEOUT_MS overrides it.
 */
const DEFAULT_MS = 300_000;
const override = process.env.ESWEEP_TEST_TIMEOUT_MS;
const timeout = override === undefined ? DEFAULT_MS : Number(override);
if (!Number.isInteger(timeout) || timeout <= 0) {
  throw new Error(`ESWEEP_TEST_TIMEOUT_MS must be a whole number of milliseconds > 0, got '${override}'`);
}

/** test(name?, options?, fn?) with `timeout` added to the options unless they have one. */
function withTimeout(register) {
  return (...args) => {
    const at = args.findIndex((arg) => arg !== null && typeof arg === 'object');
    if (at === -1) args.splice(typeof args[0] === 'string' ? 1 : 0, 0, { timeout });
    else if (args[at].timeout === undefined) args[at] = { ...args[at], timeout };
    return register(...args);
  };
}

/** Hooks take (fn, options?). */
function hookWithTimeout(register) {
  return (fn, options = {}) => register(fn, { timeout, ...options });
}

const nodeTest = createRequire(import.meta.url)('node:test');
for (const name of ['test', 'it']) {
  const original = nodeTest[name];
  nodeTest[name] = Object.assign(withTimeout(original), {
    only: withTimeout(original.only),
    skip: withTimeout(original.skip),
    todo: withTimeout(original.todo),
  });
}
for (const name of ['before', 'after', 'beforeEach', 'afterEach']) {
  nodeTest[name] = hookWithTimeout(nodeTest[name]);
}
syncBuiltinESMExports();
