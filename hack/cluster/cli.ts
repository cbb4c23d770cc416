import { ensureBinaries } from './build.js';
import { down, up } from './cluster.js';
import { log } from './log.js';
import { loadImages } from './load-images.js';
import { startMonitoring } from './monitoring.js';
import { PrerequisiteError } from './prereqs.js';

/**
 * `npm run cluster:up` / `npm run cluster:down`.
 * `up --real-node` adds one real node (kubelet, kube-proxy, containerd) beside the kwok ones.
 * `build` only builds (or finds) the binaries, for tests that need helm/kubectl but no plane
 * (`build --real-node`: kubelet and kube-proxy too).
 * `load-images` imports the tars of `.images/images.json` into the running real node (skips otherwise).
 * `up --json` prints {"kubeconfig": ..., "started": bool} on stdout (for the jest global setup).
 * `monitoring` starts Prometheus and prometheus-adapter for the HPA on a plane with a real node
 * (monitoring.ts); `down` stops them with the rest.
 */

const usage = 'usage: tsx hack/cluster/cli.ts up [--json] [--real-node] | down | build [--real-node] | load-images | monitoring';

async function main(command: string | undefined, flags: string[]): Promise<void> {
  const realNode = flags.includes('--real-node');
  switch (command) {
    case 'up': {
      // Ctrl-C while starting: stop whatever was started already, then give up
      const interrupted = (signal: NodeJS.Signals) => {
        log(`${signal}: stopping what was started`);
        void down().finally(() => process.exit(130));
      };
      process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
      const { kubeconfig, started } = await up({ realNode });
      process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
      process.stdout.write(flags.includes('--json') ? `${JSON.stringify({ kubeconfig, started })}\n` : `export KUBECONFIG=${kubeconfig}\n`);
      return;
    }
    case 'down':
      await down();
      return;
    case 'build': {
      const binaries = await ensureBinaries(process.env, { node: realNode });
      log(`binaries ready: ${Object.values(binaries).join(', ')}`);
      return;
    }
    case 'load-images':
      await loadImages();
      return;
    case 'monitoring': {
      const m = await startMonitoring();
      process.stdout.write(`${JSON.stringify(m)}\n`);
      return;
    }
    default:
      throw new Error(usage);
  }
}

main(process.argv[2], process.argv.slice(3)).catch((err: unknown) => {
  log(err instanceof PrerequisiteError ? `missing prerequisite: ${err.message}` : err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
