/** `points` values from `from` to `to`, evenly spaced on a log scale; both ends are exact. */
export function logSpaced(from: number, to: number, points: number): number[] {
  if (points === 1) return [from];
  const step = Math.log(to / from) / (points - 1);
  return Array.from({ length: points }, (_, k) => (k === points - 1 ? to : from * Math.exp(step * k)));
}
