import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * What a training run needs to continue after an epoch in another process as if it had never
 * stopped: the parameters, Adam's moments and step count, the SWA sums, both generators' states
 * and the shuffled order (each epoch shuffles the previous one). `fingerprint` names the options
 * and data it belongs to: a checkpoint of other options is refused, never silently continued.
 */
export interface TrainCheckpoint {
  fingerprint: string;
  /** Epochs completed. */
  epoch: number;
  step: number;
  params: Float32Array[];
  optimizer: { name: string; dtype: 'float32' | 'int32'; shape: number[]; values: Float32Array | Int32Array }[];
  swa?: { count: number; sums: Float32Array[] };
  rng: number[];
  masks: number[];
  order: Int32Array;
}

const b64 = (a: Float32Array | Int32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
/** The decoded bytes in an ArrayBuffer of their own (aligned for a typed array). */
const bytes = (s: string): ArrayBuffer => {
  const b = Buffer.from(s, 'base64');
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
};
const f32 = (s: string): Float32Array => new Float32Array(bytes(s));
const i32 = (s: string): Int32Array => new Int32Array(bytes(s));

/** Writes the checkpoint atomically (a temporary file renamed over the old one). */
export async function saveCheckpoint(file: string, c: TrainCheckpoint): Promise<void> {
  const json = {
    format: 'digitserve-train-checkpoint/1',
    fingerprint: c.fingerprint,
    epoch: c.epoch,
    step: c.step,
    params: c.params.map(b64),
    optimizer: c.optimizer.map((w) => ({ name: w.name, dtype: w.dtype, shape: w.shape, values: b64(w.values) })),
    swa: c.swa ? { count: c.swa.count, sums: c.swa.sums.map(b64) } : undefined,
    rng: c.rng,
    masks: c.masks,
    order: b64(c.order),
  };
  // beside the version directory, which exists only once the model is saved
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, JSON.stringify(json));
  await rename(`${file}.tmp`, file);
}

/**
 * The checkpoint in `file`, or undefined when there is none. Throws when it was written for other
 * options or data (its fingerprint differs) or is not a checkpoint.
 */
export async function loadCheckpoint(file: string, fingerprint: string): Promise<TrainCheckpoint | undefined> {
  if (!existsSync(file)) return undefined;
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${file} is not a training checkpoint (${(e as Error).message}); delete it to start over`, { cause: e });
  }
  if (j.format !== 'digitserve-train-checkpoint/1') throw new Error(`${file} is not a training checkpoint of this format; delete it to start over`);
  if (j.fingerprint !== fingerprint) throw new Error(`${file} was written by a run with other options or data (${String(j.fingerprint)}; this run: ${fingerprint}); delete it to start over, or run with the same options to continue`);
  const swa = j.swa as { count: number; sums: string[] } | undefined;
  return {
    fingerprint,
    epoch: j.epoch as number,
    step: j.step as number,
    params: (j.params as string[]).map(f32),
    optimizer: (j.optimizer as { name: string; dtype: 'float32' | 'int32'; shape: number[]; values: string }[]).map((w) => ({ ...w, values: w.dtype === 'int32' ? i32(w.values) : f32(w.values) })),
    swa: swa ? { count: swa.count, sums: swa.sums.map(f32) } : undefined,
    rng: j.rng as number[],
    masks: j.masks as number[],
    order: i32(j.order as string),
  };
}
