import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { ReportedWatch } from './reported-watch.js';

type WatchArgs = Parameters<Watch['watch']>;
type FetchOptions = Awaited<ReturnType<KubeConfig['applyToFetchOptions']>>;

export interface WatchTimeouts {
  /**
   * Each watch asks the server to end it after a random whole number of seconds in
   * [min, 2×min), as client-go's reflector does (5 min there); 0 asks nothing (the apiserver's
   * --min-request-timeout decides) and turns the idle guard off.
   */
  minTimeoutSeconds: number;
  log?: Logger;
  random?: () => number;
}

/** client-go's reflector: uniform in [min, 2×min), whole seconds. */
export function watchTimeoutSeconds(minSeconds: number, random: () => number = Math.random): number {
  return Math.floor(minSeconds + random() * minSeconds);
}

/**
 * client-node's Watch (through ReportedWatch) with the bounds client-go's reflector has and
 * client-node lacks (its Watch sets no effective timeout): every watch carries `timeoutSeconds`, so
 * the server ends it cleanly and ListWatch re-watches from its resourceVersion, and
 * `allowWatchBookmarks`, so that resourceVersion stays fresh on a quiet resource. A watch over a
 * connection that died silently (no FIN, no RST: a partition, a vanished peer) would still hang, as
 * its end never arrives; so a watch that has received nothing — no event, not even a bookmark —
 * for twice its timeout is cut and reported as failed (the informer restarts it with backoff).
 */
export class BoundedWatch extends Watch {
  /** Cuts each watch that has not ended yet, set up or still being set up. */
  private readonly open = new Set<() => void>();

  constructor(
    config: KubeConfig,
    private readonly timeouts: WatchTimeouts,
  ) {
    super(config);
  }

  /**
   * Ends every watch of this instance, also one whose response has not begun: ListWatch.stop()
   * aborts only a watch whose AbortController it already holds, so one stopped while its watch
   * was being set up would otherwise stay open.
   */
  cutAll(): void {
    for (const cut of [...this.open]) cut();
  }

  override async watch(path: WatchArgs[0], queryParams: WatchArgs[1], callback: WatchArgs[2], done: WatchArgs[3]): Promise<AbortController> {
    const { minTimeoutSeconds, log } = this.timeouts;
    const query: NonNullable<WatchArgs[1]> = { ...queryParams, allowWatchBookmarks: true };
    const timeoutSeconds = minTimeoutSeconds > 0 ? watchTimeoutSeconds(minTimeoutSeconds, this.timeouts.random) : 0;
    if (timeoutSeconds > 0) query.timeoutSeconds = timeoutSeconds;
    const idleMs = 2 * timeoutSeconds * 1000;
    // This watch's own agent (client-node makes one per request), to cut its connection even
    // before the response has begun: until then Watch has no AbortController to give back.
    let agent: FetchOptions['agent'];
    const base = this.config;
    const config = Object.create(base, {
      applyToFetchOptions: {
        value: async (opts: Parameters<KubeConfig['applyToFetchOptions']>[0]) => {
          const o = await base.applyToFetchOptions(opts);
          agent = o.agent;
          return o;
        },
      },
    }) as KubeConfig;

    let ended = false;
    let received = 0;
    let controller: AbortController | undefined = undefined; // set once the watch is set up; it may be cut before
    let idle: NodeJS.Timeout | undefined;
    const end = (err: unknown) => {
      if (ended) return;
      ended = true;
      clearTimeout(idle);
      this.open.delete(cut);
      log?.debug({ path, resourceVersion: queryParams?.resourceVersion, timeoutSeconds, received, err: err ? String(err) : undefined }, 'watch ended');
      done(err);
    };
    const cut = (err: Error = new Error(`watch ${path}: stopped`)) => {
      end(err);
      if (agent && typeof agent === 'object') agent.destroy();
      controller?.abort();
    };
    this.open.add(cut);
    const arm = () => {
      if (idleMs <= 0) return;
      clearTimeout(idle);
      idle = setTimeout(() => cut(new Error(`watch ${path}: nothing received for ${idleMs / 1000} s (asked to end after ${timeoutSeconds} s); connection cut`)), idleMs);
      idle.unref();
    };
    arm();
    const onEvent: WatchArgs[2] = (type, obj, raw) => {
      received++;
      arm();
      callback(type, obj, raw);
    };
    controller = await new ReportedWatch(config).watch(path, query, onEvent, end);
    if (ended) controller.abort(); // cut while it was being set up
    return controller;
  }
}
