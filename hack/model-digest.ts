// `npx tsx hack/model-digest.ts <version dir>`: prints the MODEL_SHA256 digest of a model version
// (runtime/model/digest.ts says what exactly it covers), to put into a DigitModel's model.sha256.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { modelDigest, type ModelFile } from '../runtime/model/digest.js';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: npx tsx hack/model-digest.ts <model version directory>\n');
  process.exit(2);
}
const modelJson = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
const names = ['metadata.json', 'model.json', ...modelJson.weightsManifest.flatMap((g) => g.paths)];
const files: ModelFile[] = await Promise.all(names.map(async (p) => ({ path: p, bytes: new Uint8Array(await readFile(path.join(dir, p))) })));
console.log(modelDigest(files));
