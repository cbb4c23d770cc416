import { Watch } from '@kubernetes/client-node';

type WatchArgs = Parameters<Watch['watch']>;

/**
 * client-node's Watch, but a watch that cannot even be set up (credentials, kubeconfig) is
 * reported through `done` like any other failed watch. ListWatch re-watches from inside the done
 * callback of the previous watch, where nobody awaits it: there a rejection from Watch.watch is an
 * unhandled rejection (fatal in Node) and the informer would never be told to restart.
 */
export class ReportedWatch extends Watch {
  override async watch(path: WatchArgs[0], queryParams: WatchArgs[1], callback: WatchArgs[2], done: WatchArgs[3]): Promise<AbortController> {
    let reported = false;
    const doneOnce = (err: unknown) => {
      if (reported) return;
      reported = true;
      done(err);
    };
    try {
      return await super.watch(path, queryParams, callback, doneOnce);
    } catch (err) {
      doneOnce(err);
      const aborted = new AbortController();
      aborted.abort();
      return aborted;
    }
  }
}
