import type { Context } from 'koa';
import { RuntimeError } from '../errors.js';

/** Reads the whole request body, refusing it (413) as soon as it passes `limit` bytes. */
export async function readBody(ctx: Context, limit: number): Promise<Buffer> {
  const declared = Number(ctx.get('content-length') || NaN);
  if (declared > limit) throw new RuntimeError('payload_too_large', `the body has ${declared} bytes; at most ${limit} are accepted (MAX_BODY_BYTES)`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      ctx.req.unpipe?.();
      ctx.req.resume();
      throw new RuntimeError('payload_too_large', `the body is over ${limit} bytes (MAX_BODY_BYTES)`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** Parses a JSON body, 400 with the parser's message when it is not JSON. */
export function parseJson(body: Buffer): unknown {
  if (body.length === 0) throw new RuntimeError('empty_body', 'the request body is empty; send a JSON document');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new RuntimeError('malformed_json', `the body is not valid JSON: ${(e as Error).message}`);
  }
}
