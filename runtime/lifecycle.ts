/**
 * The process's serving state, shared by the probes, the routes and the shutdown sequence:
 * starting → ready (model loaded and warmed) → draining (SIGTERM) → stopped. Also counts the
 * HTTP and gRPC requests in progress, so draining can wait for every accepted one.
 */
export type Phase = 'starting' | 'ready' | 'draining' | 'stopped';

export class Lifecycle {
  private current: Phase = 'starting';
  private engineFailure: string | undefined;
  private inFlight = 0;
  private refusing = false;
  private waiters: (() => void)[] = [];
  private listeners: (() => void)[] = [];

  /** Calls `f` after every change of phase or liveness (e.g. the gRPC health status follows them). */
  onChange(f: () => void): void {
    this.listeners.push(f);
  }

  private changed(): void {
    for (const f of this.listeners) f();
  }

  get phase(): Phase {
    return this.current;
  }

  /** Liveness: the process serves HTTP and its engine has not died. */
  live(): boolean {
    return this.engineFailure === undefined;
  }

  /** Readiness: model loaded and warmed, engine alive, not draining. */
  ready(): boolean {
    return this.current === 'ready' && this.live();
  }

  draining(): boolean {
    return this.current === 'draining' || this.current === 'stopped';
  }

  /**
   * Whether new inference calls are still taken: yes while draining's SHUTDOWN_DELAY_MS runs (the
   * endpoints may still send traffic here; HTTP answers it too), no once the listeners close.
   */
  acceptsCalls(): boolean {
    return !this.refusing && this.current !== 'stopped';
  }

  /** The shutdown delay is over: from now on new inference calls are refused (UNAVAILABLE). */
  refuseNewCalls(): void {
    this.refusing = true;
  }

  /** Why the process is not live, when it is not. */
  failure(): string | undefined {
    return this.engineFailure;
  }

  markReady(): void {
    if (this.current === 'starting') this.current = 'ready';
    this.changed();
  }

  startDraining(): void {
    if (this.current !== 'stopped') this.current = 'draining';
    this.changed();
  }

  markStopped(): void {
    this.current = 'stopped';
    this.changed();
  }

  markEngineFailed(reason: string): void {
    this.engineFailure ??= reason;
    this.changed();
  }

  requestStarted(): void {
    this.inFlight++;
  }

  requestFinished(): void {
    this.inFlight--;
    if (this.inFlight === 0) {
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    }
  }

  get requestsInFlight(): number {
    return this.inFlight;
  }

  /** Resolves once no HTTP request is in progress. */
  requestsDone(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
