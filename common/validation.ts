// Checking what enters from outside (files, flags, the environment) against a zod schema: the
// first problem becomes one InputError line that names the field and says what is wrong with it.
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { InputError } from './errors.ts';

/** How a message names the field of an issue, from its zod path (the CLI names flags instead). */
export type FieldNamer = (path: readonly PropertyKey[]) => string;

/** `a.b[2].c`, as the field would be written in YAML or JSON. */
const fieldPath: FieldNamer = (path) =>
  path
    .map((part, k) => (typeof part === 'number' ? `[${part}]` : k === 0 ? String(part) : `.${String(part)}`))
    .join('');

const MAX_SHOWN = 60;

/** A value as it appears in a message: strings quoted, numbers as written, long values cut short. */
export function showValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint' || value === undefined) return String(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 1)}…` : text;
}

/** A string of a named form (a DNS label, a CIDR); its message says the form rather than the regex. */
export const stringOf = (form: string, pattern: RegExp) =>
  z.string().regex(pattern, { error: (i) => `must be ${form}, got ${showValue(i.input)}` });

/** How a message names an expected type where `a <type>` would read wrong. */
const TYPE_NAMES: Record<string, string> = {
  int: 'a whole number',
  bigint: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  tuple: 'a list',
  object: 'a mapping',
  record: 'a mapping',
  null: 'null',
};
const typeName = (expected: string) => TYPE_NAMES[expected] ?? `a ${expected}`;

type RawIssue = z.core.$ZodRawIssue;

function sizeBound(issue: RawIssue & { code: 'too_small' | 'too_big' }): string | undefined {
  const limit = issue.code === 'too_small' ? issue.minimum : issue.maximum;
  const n = Number(limit);
  const inclusive = issue.inclusive !== false;
  switch (issue.origin) {
    case 'number':
    case 'int':
    case 'bigint': {
      const sign = issue.code === 'too_small' ? (inclusive ? '≥' : '>') : inclusive ? '≤' : '<';
      return `must be ${sign} ${limit}, got ${showValue(issue.input)}`;
    }
    case 'string':
      if (issue.code === 'too_small' && n === 1) return 'must not be empty';
      return `must be ${issue.code === 'too_small' ? 'at least' : 'at most'} ${n} characters long`;
    case 'array':
    case 'set':
      if (issue.code === 'too_small' && n === 1) return 'must list at least one value';
      return `must list ${issue.code === 'too_small' ? 'at least' : 'at most'} ${n} values`;
    default:
      return undefined;
  }
}

/** The expected types of a union whose every option failed on the value's type, e.g. `a list or a number`. */
function unionTypes(issue: RawIssue & { code: 'invalid_union' }): string | undefined {
  const expected = issue.errors.map((errors) => {
    const first = errors[0];
    return errors.length === 1 && first?.code === 'invalid_type' && first.path.length === 0
      ? typeName(first.expected)
      : undefined;
  });
  if (expected.length === 0 || expected.some((e) => e === undefined)) return undefined;
  return [...new Set(expected)].join(' or ');
}

/**
 * Messages for the issues a schema gives no message of its own. zod consults this after a schema's
 * own `error`, so the custom messages of a schema win.
 */
function defaultMessage(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${typeName(issue.expected)}, got ${showValue(issue.input)}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${showValue(issue.values[0])}, got ${showValue(issue.input)}`
        : `must be one of ${issue.values.map(String).join(', ')}; got ${showValue(issue.input)}`;
    case 'too_small':
    case 'too_big':
      return sizeBound(issue);
    case 'unrecognized_keys':
      return `unknown field(s) ${issue.keys.join(', ')}`;
    case 'invalid_format':
      if (issue.format === 'regex' && 'pattern' in issue) {
        return `must match ${String(issue.pattern)}, got ${showValue(issue.input)}`;
      }
      if (issue.format === 'starts_with' && 'prefix' in issue) {
        return `must start with ${showValue(issue.prefix)}, got ${showValue(issue.input)}`;
      }
      if (issue.format === 'ends_with' && 'suffix' in issue) {
        return `must end with ${showValue(issue.suffix)}, got ${showValue(issue.input)}`;
      }
      if (issue.format === 'includes' && 'includes' in issue) {
        return `must contain ${showValue(issue.includes)}, got ${showValue(issue.input)}`;
      }
      return `must be a valid ${issue.format.replaceAll('_', ' ')}, got ${showValue(issue.input)}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}, got ${showValue(issue.input)}`;
    case 'invalid_union': {
      const types = unionTypes(issue);
      return types
        ? `must be ${types}, got ${showValue(issue.input)}`
        : `does not match any allowed form, got ${showValue(issue.input)}`;
    }
    case 'invalid_key':
    case 'invalid_element':
      return issue.issues[0]?.message;
    default:
      return undefined;
  }
}

/** Whether a union option failed on the value's shape (its type, its keys) rather than inside it. */
const shapeMismatch = (issues: readonly z.core.$ZodIssue[]) =>
  issues.some(
    (issue) =>
      issue.path.length === 0 &&
      (issue.code === 'invalid_type' || issue.code === 'unrecognized_keys' || issue.code === 'invalid_value'),
  );

/**
 * The issue to report and its full path: inside a union, the one option the value has the shape of
 * knows best what is wrong (`seeds[0]: must be ≥ 0`, not "matches none of the options").
 */
function innermost(issue: z.core.$ZodIssue, path: readonly PropertyKey[]): [z.core.$ZodIssue, PropertyKey[]] {
  if (issue.code === 'invalid_union') {
    const matching = issue.errors.filter((issues) => !shapeMismatch(issues));
    const inner = matching.length === 1 ? matching[0]![0] : undefined;
    if (inner) return innermost(inner, [...path, ...inner.path]);
  }
  return [issue, [...path]];
}

/** The first issue as one line: `source: field: problem`, or `field: problem` from a namer. */
function inputErrorFromZod(error: z.ZodError, where: string | FieldNamer): InputError {
  const first = error.issues[0]!;
  const [issue, path] = innermost(first, first.path);
  // A missing field fails its type check; saying so beats any message about the type it should have.
  const message = issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message;
  const field = typeof where === 'string' ? fieldPath(path) : where(path);
  const prefix = typeof where === 'string' ? `${where}: ` : '';
  return new InputError(`${prefix}${field ? `${field}: ` : ''}${message}`);
}

/**
 * Parses `value` with `schema`; the first problem is thrown as an InputError naming `where` (the
 * source, e.g. a file name, before the field path) or, given a function, whatever it names the field.
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: string | FieldNamer,
): z.output<S> {
  const result = schema.safeParse(value, { reportInput: true, error: defaultMessage });
  if (result.success) return result.data;
  throw inputErrorFromZod(result.error, where);
}

/** Aliases one document may use: a few are normal, thousands expand into a "billion laughs". */
const MAX_ALIASES = 100;

/**
 * The document in YAML (or JSON) text; a syntax error, a tag we do not know (`!!js/function`) or an
 * alias bomb is an InputError naming `source` and, where there is one, the place.
 */
export function parseYamlText(text: string, source: string): unknown {
  // Silent: the library would print its warnings itself; the first problem is reported here instead.
  const document = parseDocument(text, { logLevel: 'silent' });
  const problem = document.errors[0] ?? document.warnings[0];
  if (problem) throw new InputError(`${source}: not valid YAML: ${problem.message.split('\n')[0]}`);
  try {
    return document.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (error) {
    // The library's alias limit, a plain ReferenceError.
    if (error instanceof ReferenceError) {
      throw new InputError(
        `${source}: not valid YAML: aliases expand too much (more than ${MAX_ALIASES} uses)`,
      );
    }
    throw error;
  }
}

/** A file the user named; one that cannot be read is an InputError naming `what` it was for. */
export async function readInputBytes(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw inputReadError(path, what, error);
  }
}

/** The one-line error for a file the user named that cannot be read. */
export function inputReadError(path: string, what: string, error: unknown): InputError {
  const code = (error as NodeJS.ErrnoException).code;
  return new InputError(
    `cannot read ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : (code ?? error)}`,
  );
}

/** A file the user named, as UTF-8 text; errors as {@link readInputBytes}. */
export async function readInputText(path: string, what: string): Promise<string> {
  return (await readInputBytes(path, what)).toString('utf8');
}
