/**
 * Two synchronous computations timed against each other in CPU time of this process, in pairs that
 * take turns (which one goes first alternates), so that both see the same load, the same heap and
 * the same garbage collector; the figure is the median of the pairs' ratios. Wall time is kept
 * beside it for the record: on a shared machine it mostly measures waiting for a core.
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
  /** Pairs run first and dropped: compilation, the allocator's and the heap's first growth. */
  warmup: number;
  pairs: number;
}

/** Times `pairs` (baseline, subject) pairs after `warmup` more, the baseline first in even pairs. */
export function interleavedPairs(
  sides: { baseline: () => unknown; subject: () => unknown },
  counts: PairCounts,
  clock: Clock = processClock,
): { cpu: Pair[]; wall: Pair[] } {
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

export const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Medians of each side, the median of subject / baseline over the pairs, and its smallest and largest. */
export function summarisePairs(pairs: readonly Pair[]): {
  baseline: number;
  subject: number;
  ratio: number;
  range: [number, number];
} {
  const ratios = pairs.map((p) => p.subject / p.baseline);
  return {
    baseline: median(pairs.map((p) => p.baseline)),
    subject: median(pairs.map((p) => p.subject)),
    ratio: median(ratios),
    range: [Math.min(...ratios), Math.max(...ratios)],
  };
}
