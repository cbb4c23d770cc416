import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { RuntimeError, type RuntimeErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import { preprocessImage, type PreprocessFacts, type PreprocessLimits, type PreprocessResult } from '../preprocess/index.js';

export interface PreprocessTask {
  id: number;
  bytes: Uint8Array;
  maxInputPixels: number;
}

export type PreprocessReply =
  | { id: number; pixels: Float32Array; facts: PreprocessFacts }
  | { id: number; error: { name: string; message: string; code?: string; details?: Record<string, unknown> } };

export type Preprocess = (bytes: Buffer, limits: PreprocessLimits) => Promise<PreprocessResult>;

/** The worker entry next to this module: compiled `.js` when present, else the `.ts` source. */
function workerUrl(): URL {
  const js = new URL('./preprocess-worker.js', import.meta.url);
  return existsSync(fileURLToPath(js)) ? js : new URL('./preprocess-worker.ts', import.meta.url);
}

/** A `.ts` entry gets tsx registered inside the worker first (Node 20 workers do not inherit loader hooks). */
function spawn(url: URL): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url);
  const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  return new Worker(`import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(url.href)}); })`, { eval: true });
}

interface Slot {
  worker: Worker;
  busy: number;
}

/**
 * Preprocessing (decode + the JS steps, several ms for a photo) in a few worker threads, so a
 * batch of large images never stalls the event loop that answers probes. Tasks go to the least
 * busy worker; a worker that dies fails its tasks (`internal`) and is replaced.
 */
export class PreprocessPool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, { slot: Slot; resolve: (r: PreprocessResult) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private closed = false;

  constructor(
    size: number,
    private readonly logger?: Logger,
  ) {
    for (let i = 0; i < size; i++) this.slots.push(this.startSlot());
  }

  get size(): number {
    return this.slots.length;
  }

  run(bytes: Buffer, limits: PreprocessLimits): Promise<PreprocessResult> {
    if (this.closed) return Promise.reject(new RuntimeError('draining', 'preprocessing has stopped'));
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    slot.busy++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { slot, resolve, reject });
      slot.worker.postMessage({ id, bytes, maxInputPixels: limits.maxInputPixels } satisfies PreprocessTask);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private startSlot(): Slot {
    const slot: Slot = { worker: spawn(workerUrl()), busy: 0 };
    slot.worker.unref();
    slot.worker.on('message', (r: PreprocessReply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      slot.busy--;
      if ('error' in r) {
        const e = r.error;
        p.reject(e.name === 'RuntimeError' && e.code ? new RuntimeError(e.code as RuntimeErrorCode, e.message, e.details) : new Error(e.message));
      } else {
        p.resolve({ pixels: r.pixels, facts: r.facts });
      }
    });
    slot.worker.on('error', (e) => this.logger?.error({ err: e }, 'preprocessing worker failed'));
    slot.worker.on('exit', (code) => {
      for (const [id, p] of this.pending) {
        if (p.slot !== slot) continue;
        this.pending.delete(id);
        p.reject(new RuntimeError('internal', `preprocessing worker exited with code ${code}`));
      }
      if (this.closed) return;
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots[i] = this.startSlot();
    });
    return slot;
  }
}

/** The pool's `run`, or preprocessing on the calling thread when `size` is 0. */
export function preprocessor(pool: PreprocessPool | undefined): Preprocess {
  return pool && pool.size > 0 ? (bytes, limits) => pool.run(bytes, limits) : preprocessImage;
}
