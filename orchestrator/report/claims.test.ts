// Claims on synthetic sweeps: each case builds the trials a claim is decided on and checks the verdict.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareResults } from '../query/compare.ts';
import type { ResultRow } from '../query/index.ts';
import { resultRow } from '../query/test-support.ts';
import type { PruningType } from '../store/store.ts';
import { type Claim, claimsText, formatClaimValue, sweepClaims, type Verdict } from './claims.ts';

/** A completed trial; effective compression defaults to the target (what effective pruning gives). */
function trial(
  pruner: string,
  pruningType: PruningType,
  target: number,
  accuracy: number,
  more: Partial<ResultRow> = {},
): ResultRow {
  return resultRow({
    trialId: `${pruner}-${pruningType}-${target}-${more.seed ?? 0}`,
    pruner,
    pruningType,
    targetCompression: target,
    directCompression: pruningType === 'direct' ? target : target * 0.9,
    effectiveCompression: target,
    accuracy,
    ...more,
  });
}

function claimsOf(rows: ResultRow[], grid = [10, 100]): Claim[] {
  return sweepClaims(rows, compareResults(rows, { grid }));
}

const verdictOf = (claims: Claim[], id: string): Verdict => {
  const claim = claims.find((c) => c.id === id);
  assert.ok(claim, `claim ${id} is there`);
  return claim.verdict;
};

const quotas = (uniform: number, erk: number, igq: number) => [
  trial('random/uniform', 'effective', 10, 0.95),
  trial('random/uniform', 'effective', 100, uniform),
  trial('random/erk', 'effective', 10, 0.95),
  trial('random/erk', 'effective', 100, erk),
  trial('random/igq', 'effective', 10, 0.955),
  trial('random/igq', 'effective', 100, igq),
];

describe('sweepClaims', () => {
  const cases: { name: string; rows: ResultRow[]; id: string; verdict: Verdict; grid?: number[] }[] = [
    {
      name: 'uniform disconnects: ×10 effective at direct ×100',
      rows: [
        trial('random/uniform', 'direct', 10, 0.9, { effectiveCompression: 11 }),
        trial('random/uniform', 'direct', 100, 0.5, { effectiveCompression: 1000 }),
      ],
      id: 'random-uniform-gap',
      verdict: 'holds',
    },
    {
      name: 'uniform with nothing left connected (infinite effective compression)',
      rows: [trial('random/uniform', 'direct', 100, 0.1, { effectiveCompression: Number.POSITIVE_INFINITY })],
      id: 'random-uniform-gap',
      verdict: 'holds',
    },
    {
      name: 'uniform barely disconnects',
      rows: [trial('random/uniform', 'direct', 100, 0.5, { effectiveCompression: 150 })],
      id: 'random-uniform-gap',
      verdict: 'does not hold',
    },
    {
      name: 'uniform only pruned effectively',
      rows: [trial('random/uniform', 'effective', 100, 0.5)],
      id: 'random-uniform-gap',
      verdict: 'not enough data',
    },
    {
      name: 'synflow within 10 %',
      rows: [
        trial('synflow', 'direct', 10, 0.97, { effectiveCompression: 10 }),
        trial('synflow', 'direct', 100, 0.9, { effectiveCompression: 105 }),
      ],
      id: 'synflow-gap',
      verdict: 'holds',
    },
    {
      name: 'synflow with a 1.5× gap at one target',
      rows: [
        trial('synflow', 'direct', 10, 0.97, { effectiveCompression: 10 }),
        trial('synflow', 'direct', 100, 0.9, { effectiveCompression: 150 }),
      ],
      id: 'synflow-gap',
      verdict: 'does not hold',
    },
    { name: 'no synflow', rows: quotas(0.8, 0.85, 0.9), id: 'synflow-gap', verdict: 'not enough data' },
    { name: 'IGQ best', rows: quotas(0.8, 0.85, 0.9), id: 'best-random-quota', verdict: 'holds' },
    {
      name: 'IGQ within 1 pp of ERK',
      rows: quotas(0.8, 0.905, 0.9),
      id: 'best-random-quota',
      verdict: 'holds',
    },
    {
      name: 'ERK 3 pp above IGQ',
      rows: quotas(0.8, 0.93, 0.9),
      id: 'best-random-quota',
      verdict: 'does not hold',
    },
    {
      name: 'IGQ alone',
      rows: quotas(0.8, 0.85, 0.9).filter((r) => r.pruner === 'random/igq'),
      id: 'best-random-quota',
      verdict: 'not enough data',
    },
    {
      // IGQ measured at ×10 and ×1000 only: its value at ×100 is bridged across a 100× gap, no evidence.
      name: 'IGQ only interpolated across a wide gap',
      rows: [
        ...quotas(0.8, 0.85, 0.9).filter((r) => r.pruner !== 'random/igq'),
        trial('random/igq', 'effective', 10, 0.95),
        trial('random/igq', 'effective', 1000, 0.7),
      ],
      grid: [100],
      id: 'best-random-quota',
      verdict: 'not enough data',
    },
    {
      name: 'IGQ on par with SNIP and SynFlow',
      rows: [
        ...quotas(0.8, 0.85, 0.9),
        trial('snip', 'effective', 100, 0.895),
        trial('synflow', 'direct', 100, 0.88),
      ],
      id: 'random-vs-algorithms',
      verdict: 'holds',
    },
    {
      name: 'GraSP clearly above the best quota',
      rows: [...quotas(0.8, 0.85, 0.9), trial('grasp', 'effective', 100, 0.93)],
      id: 'random-vs-algorithms',
      verdict: 'does not hold',
    },
    {
      name: 'no algorithm to compare with',
      rows: quotas(0.8, 0.85, 0.9),
      id: 'random-vs-algorithms',
      verdict: 'not enough data',
    },
    {
      name: 'snip: both types agree at matched compression',
      rows: [
        trial('snip', 'direct', 10, 0.95),
        trial('snip', 'direct', 100, 0.9),
        trial('snip', 'effective', 10, 0.952),
        trial('snip', 'effective', 100, 0.895),
      ],
      id: 'effective-vs-direct:snip',
      verdict: 'holds',
    },
    {
      name: 'snip: effective pruning 5 pp better at matched compression',
      rows: [
        trial('snip', 'direct', 10, 0.95),
        trial('snip', 'direct', 100, 0.85),
        trial('snip', 'effective', 10, 0.95),
        trial('snip', 'effective', 100, 0.9),
      ],
      id: 'effective-vs-direct:snip',
      verdict: 'does not hold',
    },
  ];
  for (const c of cases)
    it(`${c.id}: ${c.name} → ${c.verdict}`, () => {
      assert.equal(verdictOf(claimsOf(c.rows, c.grid), c.id), c.verdict);
    });

  it('gives each claim its numbers, and only for pruners pruned both ways the effective-vs-direct claim', () => {
    const claims = claimsOf([
      trial('random/uniform', 'direct', 10, 0.9, { effectiveCompression: 11 }),
      trial('random/uniform', 'direct', 100, 0.5, { effectiveCompression: 1000, seed: 0 }),
      trial('random/uniform', 'direct', 100, 0.5, { effectiveCompression: 2000, seed: 1 }),
      trial('synflow', 'effective', 100, 0.9),
    ]);
    assert.deepEqual(
      claims.map((c) => c.id),
      ['random-uniform-gap', 'synflow-gap', 'best-random-quota', 'random-vs-algorithms'],
    );
    const gap = claims[0]!;
    assert.deepEqual(gap.rows[1], {
      label: 'target ×100',
      values: { directCompression: 100, effectiveCompression: 1500, ratio: 15 },
      n: 2,
    });
    assert.match(gap.reason, /×15\.00 the direct \(n=2\)/);
    const text = claimsText(claims);
    assert.match(text, /\[holds\] lenet300100: Direct random\/uniform/);
    assert.match(
      text,
      /target ×100: directCompression ×100\.0, effectiveCompression ×1500\.0, ratio ×15\.00 \(n=2\)/,
    );
  });

  it('formats numbers by what they are', () => {
    assert.equal(formatClaimValue('ratio', Number.POSITIVE_INFINITY), '×inf');
    assert.equal(formatClaimValue('snipAccuracy', 0.9123), '91.23%');
    assert.equal(formatClaimValue('difference', -0.015), '-1.50 pp');
    assert.equal(formatClaimValue('quotas', 3), '3');
    assert.equal(formatClaimValue('best', 'random/igq (effective)'), 'random/igq (effective)');
    assert.equal(formatClaimValue('igqAccuracy', null), '–');
  });
});
