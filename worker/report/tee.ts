// Fan-out of one trial's reports, e.g. to the orchestrator's event pipeline and the console log.
import type { Reporter } from './reporter.ts';

/** Every event to each reporter in turn, in the order given. */
export function teeReporter(...reporters: Reporter[]): Reporter {
  const all =
    <K extends keyof Reporter>(method: K) =>
    async (event: Parameters<Reporter[K]>[0]) => {
      for (const reporter of reporters) await (reporter[method] as (e: typeof event) => Promise<void>)(event);
    };
  return {
    started: all('started'),
    sparsity: all('sparsity'),
    progress: all('progress'),
    metrics: all('metrics'),
    completed: all('completed'),
    failed: all('failed'),
  };
}
