import { basename } from 'node:path';
import { readInputText } from '../../common/validation.ts';
import { type ExpandOptions, expandSweep, type SweepPlan } from './expand.ts';
import { parseSweepYaml } from './spec.ts';

/** Reads, validates and expands a sweep file; every problem is an InputError naming the file. */
export async function loadSweep(path: string, options: ExpandOptions = {}): Promise<SweepPlan> {
  const source = basename(path);
  const text = await readInputText(path, 'sweep file');
  return expandSweep(parseSweepYaml(text, source), options, source);
}
