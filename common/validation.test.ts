import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { z } from 'zod';
import { InputError } from './errors.ts';
import { parseInput, parseYamlText, readInputText, showValue } from './validation.ts';

const schema = z.strictObject({
  name: z.string(),
  type: z.enum(['direct', 'effective']).default('direct'),
  seed: z.number().int().min(0).default(0),
  budget: z.strictObject({ epochs: z.number().positive() }).optional(),
  layers: z
    .array(z.strictObject({ width: z.number().int() }))
    .min(1)
    .optional(),
  seeds: z.union([z.array(z.number().int().min(0)), z.number().int()]).optional(),
  image: z.string().min(1).optional(),
  label: z
    .string()
    .regex(/^[a-z]+$/, { error: (issue) => `not a label: ${showValue(issue.input)}` })
    .optional(),
  mountPath: z.string().startsWith('/').optional(),
});

/** The one-line message `parseInput` throws for `value`. */
function message(value: unknown, where: Parameters<typeof parseInput>[2] = 'sweep.yaml'): string {
  try {
    parseInput(schema, value, where);
  } catch (error) {
    assert.ok(error instanceof InputError, String(error));
    assert.ok(!error.message.includes('\n'), error.message);
    return error.message;
  }
  assert.fail(`${JSON.stringify(value)} was accepted`);
}

test('valid input comes back parsed, defaults filled in', () => {
  assert.deepEqual(parseInput(schema, { name: 'a', seed: 3 }, 'sweep.yaml'), {
    name: 'a',
    type: 'direct',
    seed: 3,
  });
});

test('each problem is one line naming the source, the field path and what is wrong', () => {
  assert.equal(message({}), 'sweep.yaml: name: is required');
  assert.equal(message({ name: 5 }), 'sweep.yaml: name: must be a string, got 5');
  assert.equal(message({ name: null }), 'sweep.yaml: name: must be a string, got null');
  assert.equal(
    message({ name: 'a', type: 'sideways' }),
    'sweep.yaml: type: must be one of direct, effective; got "sideways"',
  );
  assert.equal(message({ name: 'a', seed: -1 }), 'sweep.yaml: seed: must be ≥ 0, got -1');
  assert.equal(message({ name: 'a', seed: 1.5 }), 'sweep.yaml: seed: must be a whole number, got 1.5');
  assert.equal(
    message({ name: 'a', budget: { epochs: 0 } }),
    'sweep.yaml: budget.epochs: must be > 0, got 0',
  );
  assert.equal(
    message({ name: 'a', layers: [{ width: 3 }, { width: 'wide' }] }),
    'sweep.yaml: layers[1].width: must be a number, got "wide"',
  );
  assert.equal(message({ name: 'a', layers: [{}] }), 'sweep.yaml: layers[0].width: is required');
  assert.equal(message({ name: 'a', layers: [] }), 'sweep.yaml: layers: must list at least one value');
  assert.equal(message({ name: 'a', image: '' }), 'sweep.yaml: image: must not be empty');
  assert.equal(
    message({ name: 'a', mountPath: 'data' }),
    'sweep.yaml: mountPath: must start with "/", got "data"',
  );
  assert.equal(message({ name: 'a', colour: 'blue', size: 2 }), 'sweep.yaml: unknown field(s) colour, size');
  assert.equal(message(['a']), 'sweep.yaml: must be a mapping, got ["a"]');
});

test("a schema's own message wins, except that a missing field is reported as required", () => {
  assert.equal(message({ name: 'a', label: 'A b' }), 'sweep.yaml: label: not a label: "A b"');
  const custom = z.strictObject({ n: z.number({ error: 'n must be a number' }) });
  assert.throws(() => parseInput(custom, { n: 'x' }, 'f'), { message: 'f: n: n must be a number' });
  assert.throws(() => parseInput(custom, {}, 'f'), { message: 'f: n: is required' });
});

test('a union reports the option the value has the shape of, else the shapes it may take', () => {
  assert.equal(message({ name: 'a', seeds: [0, -2] }), 'sweep.yaml: seeds[1]: must be ≥ 0, got -2');
  assert.equal(message({ name: 'a', seeds: [0, 'x'] }), 'sweep.yaml: seeds[1]: must be a number, got "x"');
  assert.equal(
    message({ name: 'a', seeds: 'all' }),
    'sweep.yaml: seeds: must be a list or a number, got "all"',
  );
});

test('a field namer replaces the source and the path (the CLI names flags)', () => {
  const flag = (path: readonly PropertyKey[]) => `--${String(path[0])}`;
  assert.equal(message({ name: 'a', seed: -1 }, flag), '--seed: must be ≥ 0, got -1');
});

test('values in messages are quoted strings, numbers as written, and cut short when long', () => {
  assert.equal(showValue('a b'), '"a b"');
  assert.equal(showValue(Number.POSITIVE_INFINITY), 'Infinity');
  assert.equal(showValue(undefined), 'undefined');
  assert.equal(showValue({ a: 1 }), '{"a":1}');
  const long = showValue('x'.repeat(200));
  assert.equal(long.length, 60);
  assert.ok(long.endsWith('…'));
});

test('broken YAML is one line naming the source and the place', () => {
  assert.deepEqual(parseYamlText('a: [1, 2]', 'f.yaml'), { a: [1, 2] });
  assert.throws(
    () => parseYamlText('name: [', 'f.yaml'),
    (error: unknown) =>
      error instanceof InputError &&
      /^f\.yaml: not valid YAML: .*line 1/.test(error.message) &&
      !error.message.includes('\n'),
  );
});

const dir = mkdtempSync(join(tmpdir(), 'esweep-validation-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a missing input file is an input error naming what it was for', async () => {
  const missing = join(dir, 'absent.yaml');
  await assert.rejects(readInputText(missing, 'sweep file'), {
    name: 'InputError',
    message: `cannot read sweep file ${missing}: no such file`,
  });
  await assert.rejects(readInputText(dir, 'sweep file'), {
    name: 'InputError',
    message: `cannot read sweep file ${dir}: EISDIR`,
  });
});

/** A "billion laughs": ten aliases per level, nine levels deep. */
const ALIAS_BOMB = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'.split('').map((name, k) => {
    const previous = 'abcdefghi'[k];
    return `${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`;
  }),
].join('\n');

test('YAML that would expand without bound, or carries unknown tags, is one input error line', async () => {
  const oneLine = (pattern: RegExp) => (error: unknown) =>
    error instanceof InputError && pattern.test(error.message) && !error.message.includes('\n');
  assert.throws(
    () => parseYamlText(ALIAS_BOMB, 'bomb.yaml'),
    oneLine(/^bomb\.yaml: not valid YAML: aliases/),
  );
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on('warning', onWarning);
  try {
    assert.throws(
      () => parseYamlText('name: !!js/function "function () {}"\n', 'tag.yaml'),
      oneLine(/^tag\.yaml: not valid YAML: .*js\/function/),
    );
    // Warnings are emitted on a later tick.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', onWarning);
  }
  assert.deepEqual(warnings, [], 'nothing printed besides the error');
  // A few aliases are ordinary YAML.
  assert.deepEqual(parseYamlText('a: &x [1]\nb: *x\n', 'ok.yaml'), { a: [1], b: [1] });
});
