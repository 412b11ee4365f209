// A controller under leader election: it keeps its view of the backend warm while it waits, reconciles
// only while it leads, and at the end of a term stops acting at once. When the term ended because the
// lead was lost (the fence), `fence` is aborted first, so that the backend's calls still in flight are
// abandoned, and the caller is told to exit (docs/high-availability.md says why exiting, not waiting
// as a candidate again). On stop the controller finishes its pass before the lease is released.
import type { Controller } from './controller.ts';
import type { LeaderElector, LeaderEvent, TermEnd } from './leader.ts';

export interface CampaignOptions {
  elector: LeaderElector;
  controller: Controller;
  /** Reconcilers that, like the controller, act only while this replica leads (e.g. Sweep objects). */
  companions?: { start(): Promise<void>; stop(): Promise<void> }[];
  /** Aborted when the lead is lost: the backend's API calls use it. */
  fence: AbortController;
  /** Aborted on shutdown (SIGTERM). */
  stop: AbortSignal;
  log: (entry: Record<string, unknown>) => void;
}

/** The decision-log line of a leader-election event (lead gained/lost/released), or another line. */
export function leaderLogEntry(event: LeaderEvent, lease: string): Record<string, unknown> {
  switch (event.event) {
    case 'lead gained':
      return {
        level: 'info',
        decision: 'lead gained',
        lease,
        transitions: event.transitions,
        reason: 'acquired the lease',
      };
    case 'lead lost':
      return { level: 'warn', decision: 'lead lost', lease, reason: event.reason };
    case 'lead released':
      return { level: 'info', decision: 'lead released', lease, reason: 'shutdown' };
    case 'leader observed':
      return { level: 'info', msg: 'leader observed', lease, holder: event.holder };
    case 'lease error':
      return { level: 'warn', msg: 'lease error', lease, error: event.error };
  }
}

/** Observes, campaigns, leads one term; resolves with how the term ended ('stopped' if never led). */
export async function campaign({
  elector,
  controller,
  companions = [],
  fence,
  stop,
  log,
}: CampaignOptions): Promise<TermEnd> {
  const { metrics } = controller;
  metrics.leader = false;
  await controller.observe();
  log({ level: 'info', msg: 'candidate', identity: elector.identity });
  return elector.run(stop, async (term) => {
    metrics.leader = true;
    metrics.leaderChanges++;
    metrics.leaseTransitions = elector.leaseTransitions;
    // The end of the first pass is when a takeover has caught up: logged, to measure takeovers by.
    controller.idle().then(() => {
      if (!term.aborted) log({ level: 'info', msg: 'first pass as leader done' });
    });
    await controller.start();
    for (const companion of companions) await companion.start();
    if (!term.aborted)
      await new Promise((resolve) => term.addEventListener('abort', resolve, { once: true }));
    metrics.leader = false;
    metrics.leaderChanges++;
    if (!stop.aborted) fence.abort(new Error('lost the lead'));
    for (const companion of companions) await companion.stop();
    await controller.stop();
  });
}
