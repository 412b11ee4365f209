import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { InputError } from '../../worker/errors.ts';
import { type ExpandOptions, expandSweep, type SweepPlan } from './expand.ts';
import { parseSweepYaml } from './spec.ts';

/** Reads, validates and expands a sweep file; every problem is an InputError naming the file. */
export async function loadSweep(path: string, options: ExpandOptions = {}): Promise<SweepPlan> {
  const source = basename(path);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(
      `cannot read sweep file ${path}: ${code === 'ENOENT' ? 'no such file' : String(code)}`,
    );
  }
  return expandSweep(parseSweepYaml(text, source), options, source);
}
