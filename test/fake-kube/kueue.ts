// A fake Kueue, enough to test a controller against its contract (kueue.sigs.k8s.io, "run a Job"):
// a Job labelled `kueue.x-k8s.io/queue-name` is created suspended; Kueue admits it when the queue's
// quota has room by setting `spec.suspend: false` (the job controller then creates its pods);
// preemption sets `spec.suspend: true` again, the job controller deletes the active pods, and the
// workload goes back to the queue, ordered by its eviction time (Kueue's default requeuing
// strategy). Quota is one number of Jobs for all queues (one ClusterQueue, one resource flavor), and
// a Job stops using it when it finishes or is deleted. The Workload objects Kueue keeps are not
// modelled: nothing in esweep reads them.
import type { Change, KubeObject, Store } from './store.ts';

export const QUEUE_LABEL = 'kueue.x-k8s.io/queue-name';

interface QueuedJob extends KubeObject {
  spec: { suspend?: boolean };
  status?: { conditions?: { type: string; status: string }[] };
}

const finished = (job: QueuedJob) =>
  job.status?.conditions?.some(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  ) ?? false;

export class FakeKueue {
  /** When each workload entered the queue (creation, or its last eviction), for FIFO admission. */
  private readonly queuedAt = new Map<string, number>();
  private clock = 0;
  private scheduled = false;
  private stopped = false;
  private readonly unsubscribe: () => void;
  admissions = 0;
  preemptions = 0;

  constructor(
    private readonly store: Store,
    /** Jobs admitted at once (the ClusterQueue's nominal quota, counted in Jobs). */
    public quota: number,
  ) {
    this.unsubscribe = store.subscribe((change) => this.changed(change));
  }

  private changed(change: Change): void {
    if (change.resource !== 'jobs' || !change.object.metadata.labels?.[QUEUE_LABEL]) return;
    const id = `${change.object.metadata.namespace}/${change.object.metadata.name}`;
    if (change.type === 'DELETED') this.queuedAt.delete(id);
    else if (!this.queuedAt.has(id)) this.queuedAt.set(id, ++this.clock);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.admit();
    });
  }

  private queued(): QueuedJob[] {
    return (this.store.list('jobs') as QueuedJob[]).filter(
      (job) => job.metadata.labels?.[QUEUE_LABEL] && !finished(job),
    );
  }

  /** Admits the oldest queued workloads while the quota has room. */
  admit(): void {
    if (this.stopped) return;
    const jobs = this.queued();
    let admitted = jobs.filter((job) => !job.spec.suspend).length;
    const waiting = jobs
      .filter((job) => job.spec.suspend)
      .sort((a, b) => (this.queuedAt.get(idOf(a)) ?? 0) - (this.queuedAt.get(idOf(b)) ?? 0));
    for (const job of waiting) {
      if (admitted >= this.quota) break;
      this.store.update('jobs', job.metadata.namespace!, job.metadata.name, (o) => {
        (o as QueuedJob).spec.suspend = false;
      });
      admitted++;
      this.admissions++;
    }
  }

  /**
   * Preempts an admitted Job (as a higher-priority workload or a reclaiming queue would): suspended
   * again, back to the end of the queue. False when it is not admitted or has finished.
   */
  preempt(namespace: string, name: string): boolean {
    const job = this.store.get('jobs', namespace, name) as QueuedJob | undefined;
    if (!job || job.spec.suspend || finished(job) || !job.metadata.labels?.[QUEUE_LABEL]) return false;
    this.queuedAt.set(idOf(job), ++this.clock);
    this.store.update('jobs', namespace, name, (o) => {
      (o as QueuedJob).spec.suspend = true;
    });
    this.preemptions++;
    return true;
  }

  /** Changes the quota (a lower one preempts nothing: Kueue only stops admitting). */
  setQuota(quota: number): void {
    this.quota = quota;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
  }
}

const idOf = (job: KubeObject) => `${job.metadata.namespace}/${job.metadata.name}`;
