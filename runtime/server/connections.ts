import type http from 'node:http';
import net from 'node:net';
import type { Socket } from 'node:net';

/** A kept-alive socket idle this long after draining began (or after its last answer) may be closed. */
export const DRAIN_IDLE_MS = 1_000;

interface State {
  busy: number;
  idleSince: number;
}

/**
 * The HTTP server's open connections, and which of them are between requests, so that draining
 * closes none on which a request may be racing. HTTP/1.1 gives the server one safe way to end a
 * kept-alive connection: `Connection: close` on an answer (the client then sends nothing more on
 * it). Closing an idle one is a race with a request the client may be sending at that moment —
 * the request is lost ("other side closed", ECONNRESET). So while draining:
 * - the listener stops accepting connections, but open connections are not closed (Node's
 *   `server.close()` would close every idle one at once, which is that race);
 * - requests arriving on them are answered, marked `Connection: close` (request-context);
 * - a connection still idle DRAIN_IDLE_MS after draining began or after its last answer — its
 *   client is not using it — is half-closed then; one in use closes after its answer.
 */
export class ConnectionTracker {
  private readonly sockets = new Map<Socket, State>();

  constructor(
    private readonly server: http.Server,
    private readonly now: () => number = () => performance.now(),
  ) {
    server.on('connection', (socket: Socket) => {
      this.sockets.set(socket, { busy: 0, idleSince: this.now() });
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const st = this.sockets.get(req.socket);
      if (!st) return;
      st.busy++;
      res.once('close', () => {
        st.busy--;
        st.idleSince = this.now();
      });
    });
  }

  get open(): number {
    return this.sockets.size;
  }

  /**
   * Stops accepting connections and waits until every open one has closed: in use ones after
   * their `Connection: close` answer, idle ones once idle for DRAIN_IDLE_MS. Resolves when none is
   * left (the caller bounds the wait: SHUTDOWN_TIMEOUT_MS).
   */
  async drain(pollMs = 50): Promise<void> {
    const startedAt = this.now();
    // net.Server's close: no new connections, and (unlike http.Server's) no closing of idle ones
    const closed = new Promise<void>((resolve) => net.Server.prototype.close.call(this.server, () => resolve()));
    let done = false;
    void closed.then(() => (done = true));
    while (!done) {
      const now = this.now();
      for (const [socket, st] of this.sockets) {
        if (st.busy === 0 && now - Math.max(st.idleSince, startedAt) >= DRAIN_IDLE_MS && !socket.writableEnded) {
          socket.end();
          setTimeout(() => socket.destroy(), DRAIN_IDLE_MS).unref();
        }
      }
      await Promise.race([closed, new Promise((r) => setTimeout(r, pollMs))]);
    }
  }
}
