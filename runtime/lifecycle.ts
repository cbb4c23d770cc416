/** Where the process is in its life: probes and admission read this, main.ts drives it. */
export type Phase = 'starting' | 'ready' | 'draining' | 'stopped';

export class Lifecycle {
  private phase: Phase = 'starting';

  get current(): Phase {
    return this.phase;
  }

  /** Ready = model loaded and warmed, not draining. */
  ready(): boolean {
    return this.phase === 'ready';
  }

  live(): boolean {
    return this.phase !== 'stopped';
  }

  markReady(): void {
    if (this.phase === 'starting') this.phase = 'ready';
  }

  /** Readiness turns false at once; returns false when a drain had already begun. */
  beginDrain(): boolean {
    if (this.phase === 'draining' || this.phase === 'stopped') return false;
    this.phase = 'draining';
    return true;
  }

  markStopped(): void {
    this.phase = 'stopped';
  }
}
