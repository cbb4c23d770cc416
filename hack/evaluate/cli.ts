// `npm run evaluate -- --model DIR`: the model as served, on validation, t10k, benign shifts and
// non-digits, with the MC-dropout ablation; prints the tables and writes DIR/evaluation.json.
// Any servable model: MC dropout or not (uncertainty 'none': graph models, no Dropout layer).
// `npm run calibrate` runs this same command after its fit (runtime/import/calibrate.ts).
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Engine } from '../../runtime/engine/engine.js';
import { FASHION_DIR } from '../../runtime/train/datasets.js';
import { evaluationTables } from '../../runtime/train/evaluation-report.js';
import { renderLetters } from '../../runtime/train/letters.js';
import { evaluateModel } from './evaluate-model.js';
import { SIZE_OPTIONS, SIZE_USAGE, sizeFromOptions, type EvaluationSize } from './size.js';

const fail = (message: string): never => {
  console.error(`evaluate: ${message}`);
  process.exit(2);
};
function parse() {
  try {
    return parseArgs({
      options: {
        model: { type: 'string' },
        seed: { type: 'string', default: '16' },
        'fashion-dir': { type: 'string', default: FASHION_DIR },
        out: { type: 'string' },
        help: { type: 'boolean', default: false },
        ...SIZE_OPTIONS,
      },
    }).values;
  } catch (e) {
    return fail((e as Error).message);
  }
}
const values = parse();
if (values.help || !values.model) {
  console.log(`usage: npm run evaluate -- --model DIR [--seed S (mask seed, 16)] [--fashion-dir DIR] [--out FILE (DIR/evaluation.json)]
${SIZE_USAGE}
Every image passes through the runtime's preprocessing (encoded as a client would send it) and the
engine as served (TFJS_BACKEND picks the backend). Prints the tables and writes the figures as JSON.`);
  process.exit(values.help ? 0 : 2);
}
const seed = Number(values.seed);
if (!Number.isInteger(seed) || seed < 0) fail(`--seed must be a non-negative integer, got ${values.seed}`);
const size = ((): EvaluationSize => {
  try {
    return sizeFromOptions(values);
  } catch (e) {
    return fail((e as Error).message);
  }
})();
const dir = path.resolve(values.model);
if (!existsSync(path.join(dir, 'metadata.json'))) fail(`${values.model} is not a model version directory (no metadata.json)`);
const log = (line: string): void => console.error(`[evaluate] ${line}`);

try {
  // letters first: the preprocessing blocks libvips' SVG loader process-wide, which draws them
  const letters = await renderLetters();
  const engine = await Engine.load({ modelUri: dir, seed });
  const evaluation = await evaluateModel(engine, { size, maskSeed: seed, letters, fashionDir: values['fashion-dir'], log });
  engine.dispose();
  const out = values.out ? path.resolve(values.out) : path.join(dir, 'evaluation.json');
  await writeFile(out, JSON.stringify(evaluation, null, 1) + '\n');
  console.log(evaluationTables(evaluation));
  log(`wrote ${out} (${String(evaluation.seconds)} s)`);
} catch (e) {
  // a clear line instead of the wasm backend's handler dumping its module source
  console.error(`evaluate: ${values.model}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(1);
}
