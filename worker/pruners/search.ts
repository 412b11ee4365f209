/**
 * The smallest integer n in (lo, hi] with f(n) ≥ target (approximately: it stops once
 * |f(n) − target| ≤ tolerance), for a non-decreasing f with f(lo) < target ≤ f(hi). Regula falsi
 * with the Illinois correction, so smooth counts converge in a handful of evaluations; when three
 * steps in a row fail to halve the bracket, a bisection step follows, which bounds the worst case
 * to a small multiple of log2(hi − lo) evaluations even where f jumps.
 */
export function searchCount(
  f: (n: number) => number,
  target: number,
  bracket: { lo: number; fLo: number; hi: number; fHi: number },
  tolerance: number,
): { n: number; value: number; lo: number; fLo: number } {
  let { lo, fLo, hi, fHi } = bracket;
  let gLo = bracket.fLo - target;
  let gHi = fHi - target;
  let lastSide = 0;
  let slowSteps = 0;
  while (hi - lo > 1 && gHi > tolerance) {
    const width = hi - lo;
    let guess = Math.round(lo + (width * -gLo) / (gHi - gLo));
    if (slowSteps >= 3 || guess <= lo || guess >= hi) guess = lo + Math.floor(width / 2);
    const g = f(guess) - target;
    if (g >= 0) {
      hi = guess;
      gHi = g;
      fHi = g + target;
      if (lastSide > 0) gLo /= 2;
      lastSide = 1;
    } else {
      lo = guess;
      fLo = g + target;
      gLo = g;
      if (lastSide < 0) gHi /= 2;
      lastSide = -1;
    }
    slowSteps = hi - lo > width / 2 ? slowSteps + 1 : 0;
  }
  return { n: hi, value: fHi, lo, fLo };
}
