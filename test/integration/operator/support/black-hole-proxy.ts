import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

/**
 * A TCP proxy in front of the apiserver that can turn into a black hole: after freeze() it still
 * accepts connections and keeps the open ones, but nothing passes in either direction — what a
 * client sees of an apiserver behind a network partition, or one that accepts and never answers.
 * TLS passes through untouched (the plane's serving certificate covers 127.0.0.1).
 */
export class BlackHoleProxy {
  private frozen = false;
  private readonly sockets = new Set<net.Socket>();

  private readonly server: net.Server;

  private constructor(private readonly target: URL) {
    this.server = net.createServer((downstream) => this.connect(downstream));
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  static async start(target: URL): Promise<BlackHoleProxy> {
    const proxy = new BlackHoleProxy(target);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** `kc` with its current cluster reached through this proxy. */
  kubeConfig(kc: KubeConfig): KubeConfig {
    const current = kc.getCurrentCluster()!;
    const out = new KubeConfig();
    out.loadFromOptions({
      clusters: kc.clusters.map((c) => (c.name === current.name ? { ...c, server: `https://127.0.0.1:${this.port}` } : c)),
      users: kc.users,
      contexts: kc.contexts,
      currentContext: kc.currentContext,
    });
    return out;
  }

  freeze(): void {
    this.frozen = true;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private connect(downstream: net.Socket): void {
    const upstream = net.connect(Number(this.target.port || 443), this.target.hostname);
    for (const [from, to] of [[downstream, upstream], [upstream, downstream]] as const) {
      this.sockets.add(from);
      from.on('data', (chunk: Buffer) => {
        if (!this.frozen) to.write(chunk);
      });
      // a frozen proxy passes no FIN or RST either: the other side never learns
      from.on('close', () => {
        this.sockets.delete(from);
        if (!this.frozen) to.destroy();
      });
      from.on('error', () => {});
    }
  }
}
