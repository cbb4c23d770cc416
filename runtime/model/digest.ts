import { createHash } from 'node:crypto';

/** Lower-case hex sha256 of some bytes. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface ModelFile {
  /** Path relative to the version directory / base URL, as model.json names it (e.g. `weights.bin`). */
  path: string;
  bytes: Uint8Array;
}

/**
 * The digest of a model version that MODEL_SHA256 (a DigitModel's `model.sha256`) states: the
 * sha256 of the `sha256sum`-style listing of every file the runtime reads — `metadata.json`,
 * `model.json` and each weight shard model.json names — one line `<hex sha256>  <path>\n` per
 * file, sorted by path (byte order). For a local copy of a version directory it is
 *   (cd models/mnist-cnn/1 && sha256sum metadata.json model.json weights.bin | LC_ALL=C sort -k2 | sha256sum)
 * or `npx tsx hack/model-digest.ts <dir>`. One digest covers weights, topology and calibration. Pure.
 */
export function modelDigest(files: ModelFile[]): string {
  const lines = files
    .map((f) => ({ path: f.path, line: `${sha256Hex(f.bytes)}  ${f.path}\n` }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((l) => l.line)
    .join('');
  return sha256Hex(new TextEncoder().encode(lines));
}
