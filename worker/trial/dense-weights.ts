/**
 * Where a dense trial leaves its initial and final weights (torch-layout npz) and where magnitude
 * and LAMP trials of the same architecture, dataset and seed find them: one directory can hold
 * the dense runs of a whole sweep.
 */
import { join } from 'node:path';
import type { Architecture } from '../arch/graph.ts';

export interface DenseWeightFiles {
  initial: string;
  final: string;
}

export function denseWeightFiles(dir: string, arch: Architecture, seed: number): DenseWeightFiles {
  const stem = join(dir, `${arch.name}-${arch.dataset}-seed${seed}`);
  return { initial: `${stem}-initial.npz`, final: `${stem}-final.npz` };
}
