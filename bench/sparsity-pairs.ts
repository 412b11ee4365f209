/**
 * Two synchronous computations timed against each other in CPU time of this process, in pairs that
 * take turns (which one goes first alternates), so that both see the same load, the same heap and
 * the same garbage collector. The figure is the median, over blocks of two consecutive pairs (one of
 * each order), of the block's subject CPU over its baseline CPU: a collection set off by one run's
 * garbage often falls in the next run, and within a block it falls on the side whose garbage it
 * mostly is, where a median of single pairs would swing between the pairs it hit and those it
 * missed. Wall time is kept beside it for the record: on a shared machine it mostly measures
 * waiting for a core.
 */

/** Milliseconds of CPU (user + system, all threads of the process) and of wall clock so far. */
export interface Clock {
  cpu(): number;
  wall(): number;
}

export const processClock: Clock = {
  cpu: () => {
    const used = process.cpuUsage();
    return (used.user + used.system) / 1000;
  },
  wall: () => performance.now(),
};

/** One pair's times, in milliseconds. */
export interface Pair {
  baseline: number;
  subject: number;
}

export interface PairCounts {
  /** Pairs run first and dropped: compilation, the allocator's and the heap's first growth (even). */
  warmup: number;
  /** Pairs measured (even: whole blocks). */
  pairs: number;
}

/** Times `pairs` (baseline, subject) pairs after `warmup` more, the baseline first in even pairs. */
export function interleavedPairs(
  sides: { baseline: () => unknown; subject: () => unknown },
  counts: PairCounts,
  clock: Clock = processClock,
): { cpu: Pair[]; wall: Pair[] } {
  if (counts.warmup % 2 !== 0 || counts.pairs % 2 !== 0 || counts.pairs === 0)
    throw new Error(`pair counts must be even and pairs > 0, got ${counts.warmup} and ${counts.pairs}`);
  const cpu: Pair[] = [];
  const wall: Pair[] = [];
  const time = (side: 'baseline' | 'subject') => {
    const startWall = clock.wall();
    const startCpu = clock.cpu();
    sides[side]();
    return { cpu: clock.cpu() - startCpu, wall: clock.wall() - startWall };
  };
  for (let p = 0; p < counts.warmup + counts.pairs; p++) {
    let baseline: { cpu: number; wall: number };
    let subject: { cpu: number; wall: number };
    if (p % 2 === 0) {
      baseline = time('baseline');
      subject = time('subject');
    } else {
      subject = time('subject');
      baseline = time('baseline');
    }
    if (p < counts.warmup) continue;
    cpu.push({ baseline: baseline.cpu, subject: subject.cpu });
    wall.push({ baseline: baseline.wall, subject: subject.wall });
  }
  return { cpu, wall };
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Medians of each side's runs; the figure: the median over blocks (pairs 2k and 2k + 1) of the
 * block's subject / baseline CPU, with the smallest and largest block.
 */
export function summarisePairs(pairs: readonly Pair[]): {
  baseline: number;
  subject: number;
  ratio: number;
  range: [number, number];
} {
  const blocks: number[] = [];
  for (let k = 0; k + 1 < pairs.length; k += 2) {
    const [a, b] = [pairs[k], pairs[k + 1]];
    blocks.push((a.subject + b.subject) / (a.baseline + b.baseline));
  }
  return {
    baseline: median(pairs.map((p) => p.baseline)),
    subject: median(pairs.map((p) => p.subject)),
    ratio: median(blocks),
    range: [Math.min(...blocks), Math.max(...blocks)],
  };
}
