import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** A rest of at most this many bytes is read and discarded, so the connection stays usable. */
export const DRAIN_MAX_BYTES = 1 << 20;
/** After a `Connection: close` answer, the rest is read and discarded this long at most before the socket is destroyed. */
export const LINGER_MS = 5_000;

const discard = () => undefined;

/**
 * An answer is about to go out before the request's body was fully read (an early refusal: too
 * many parts, a declared length over the limit, a wrong route). Left alone, the unread rest either
 * stalls the kept-alive connection (the next request on it is never parsed) or, when the socket is
 * closed with bytes still arriving, makes the kernel reset it — and the client loses the answer.
 *
 * A short rest (declared Content-Length ≤ DRAIN_MAX_BYTES) is read and discarded: the connection
 * stays alive for the client's next request. Anything longer or of unknown length (chunked) is
 * answered `Connection: close`, and the socket is closed only after the answer is flushed: we
 * half-close (FIN, so the client sees the end of the answer) and keep discarding what still arrives
 * for up to LINGER_MS (a "lingering close"), so no reset destroys the answer in flight.
 * Returns what it chose, or undefined when the body was read.
 */
export function handleUnreadBody(req: IncomingMessage, res: ServerResponse, setHeader: (name: string, value: string) => void): 'drain' | 'close' | undefined {
  if (req.complete || req.readableEnded) return undefined;
  const declared = Number(req.headers['content-length']);
  // whoever stopped reading (a size limit, busboy) is done with it
  req.unpipe();
  if (Number.isFinite(declared) && declared <= DRAIN_MAX_BYTES) {
    req.on('data', discard);
    req.resume();
    return 'drain';
  }
  setHeader('Connection', 'close');
  lingerOnClose(res.socket ?? req.socket, req);
  return 'close';
}

/**
 * Replaces the socket's `destroySoon` (what Node's HTTP server calls once a `Connection: close`
 * answer is written) by a lingering close: end our side, keep reading and discarding, destroy
 * when the client closes its side or after LINGER_MS.
 */
function lingerOnClose(socket: Socket, req: IncomingMessage): void {
  const s = socket as Socket & { destroySoon?: () => void };
  s.destroySoon = () => {
    req.on('data', discard);
    req.resume();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    socket.once('end', () => socket.destroy());
    socket.end();
  };
}
