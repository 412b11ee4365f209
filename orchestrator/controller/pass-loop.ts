// Level-triggered passes for the reconcilers (Jobs, Sweep objects): `poke()` asks for a pass soon,
// bursts are batched by a debounce, passes never overlap, and a poke during a pass causes another.
// A pass that failed is retried after a pause; one that must not go on ends the loop until the next poke.

/** How a pass ended: nothing more to do, try again after a pause, or stop until poked. */
export type PassOutcome = 'done' | 'retry' | 'stop';

export interface PassLoopOptions {
  debounceMs: number;
  /** Pause before a pass that returned 'retry' runs again (default 500 ms). */
  retryPauseMs?: number;
}

export class PassLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private dirty = false;
  private active = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly pass: () => Promise<PassOutcome>,
    private readonly options: PassLoopOptions,
  ) {}

  /** Passes may run from now on; the first one soon. */
  start(): void {
    this.active = true;
    this.poke();
  }

  /** Asks for a pass soon. */
  poke(): void {
    if (!this.active) return;
    this.dirty = true;
    if (this.timer || this.running) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.loop().finally(() => {
        this.running = null;
        if (this.dirty) this.poke();
        else for (const resolve of this.idleWaiters.splice(0)) resolve();
      });
    }, this.options.debounceMs);
  }

  /** From inside a pass: another one right after it (work was left for the next pass). */
  again(): void {
    this.dirty = true;
  }

  /** Resolves after the next pass that found nothing more to do. */
  idle(): Promise<void> {
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** No more passes; resolves when the one in progress has finished. */
  async stop(): Promise<void> {
    this.active = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async loop(): Promise<void> {
    while (this.dirty && this.active) {
      this.dirty = false;
      const outcome = await this.pass();
      if (outcome === 'stop') {
        this.dirty = false;
        break;
      }
      if (outcome === 'retry') {
        await new Promise((resolve) => setTimeout(resolve, this.options.retryPauseMs ?? 500));
        this.dirty = true;
      }
    }
  }
}
