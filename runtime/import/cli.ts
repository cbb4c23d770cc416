// `npm run import -- --from PATH --out models/<name>/<version>` and `npm run calibrate -- --model DIR`
// (docs/models.md): converts a Keras (.keras, .h5) or SavedModel artifact with runtime/import/convert.py
// in the project's Python environment, then calibrates the version (runtime/import/calibrate.ts).
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { PACKAGE_ROOT } from '../package-root.js';
import { calibrateModel } from './calibrate.js';
import { converterPython } from './python-env.js';

const run = promisify(execFile);
const log = (line: string): void => console.error(`[import] ${line}`);
const command = process.argv[2];

const { values } = parseArgs({
  args: process.argv.slice(3),
  options: {
    from: { type: 'string' },
    out: { type: 'string' },
    model: { type: 'string' },
    format: { type: 'string' },
    name: { type: 'string' },
    version: { type: 'string' },
    'no-calibrate': { type: 'boolean', default: false },
    digits: { type: 'string', default: '2000' },
    quick: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

function fail(message: string, code = 2): never {
  console.error(`${command}: ${message}`);
  process.exit(code);
}

const IMPORT_USAGE = `usage: npm run import -- --from PATH --out models/<name>/<version> [--format keras|savedmodel (from PATH)]
  [--name N --version V (default: from --out)] [--no-calibrate] [--digits N (validation digits for calibrate, 2000)]
  [--quick (the evaluation after calibrate at npm run evaluate's quick size)]
PATH: a Keras 3 .keras file, a legacy .h5 file, or a TF SavedModel directory (docs/models.md).`;
const CALIBRATE_USAGE = `usage: npm run calibrate -- --model DIR [--digits N (validation digits, alternate ones per class fit; 2000)]
  [--quick (the evaluation at npm run evaluate's quick size: a first look, not the full table)]
Fits the confidence mapping and the threshold, then runs npm run evaluate -- --model DIR [--quick]:
the same table, printed and written to DIR/evaluation.json.`;

const digits = Number(values.digits);
if (!Number.isInteger(digits) || digits < 20) fail(`--digits must be an integer ≥ 20, got ${values.digits}`);
const evaluateArgs = values.quick ? ['--quick'] : [];

if (command === 'calibrate') {
  if (values.help || !values.model) {
    console.log(CALIBRATE_USAGE);
    process.exit(values.help ? 0 : 2);
  }
  if (!existsSync(path.join(values.model, 'metadata.json'))) fail(`${values.model} is not a model version directory (no metadata.json)`);
  await calibrateModel(path.resolve(values.model), { digits, evaluateArgs }).catch((e: unknown) => fail(e instanceof Error ? e.message : String(e), 1));
} else if (command === 'import') {
  if (values.help || !values.from || !values.out) {
    console.log(IMPORT_USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const from = path.resolve(values.from);
  if (!existsSync(from)) fail(`${values.from}: no such file or directory`);
  const isDir = statSync(from).isDirectory();
  const format = values.format ?? (isDir ? 'savedmodel' : /\.(keras|h5|hdf5)$/i.test(from) ? 'keras' : undefined);
  if (format !== 'keras' && format !== 'savedmodel') {
    fail(values.format ? `--format must be keras or savedmodel, got ${values.format}` : `${values.from}: not a .keras or .h5 file nor a SavedModel directory (give --format keras|savedmodel)`);
  }
  const t0 = performance.now();
  const python = await converterPython(log);
  const args = [path.join(PACKAGE_ROOT, 'runtime/import/convert.py'), '--format', format, '--from', from, '--out', path.resolve(values.out)];
  if (values.name) args.push('--name', values.name);
  if (values.version) args.push('--version', values.version);
  log(`converting ${values.from} (${format})`);
  let result: Record<string, unknown>;
  try {
    const { stdout } = await run(python, args, { maxBuffer: 1 << 24, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } });
    result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
  } catch (e) {
    const err = e as { code?: number; stderr?: string };
    const reason = (err.stderr ?? String(e)).split('\n').filter((l) => l.startsWith('convert.py:')).join('\n') || (err.stderr ?? String(e)).trim().split('\n').slice(-5).join('\n');
    fail(reason, typeof err.code === 'number' ? err.code : 1);
  }
  const converted = (performance.now() - t0) / 1000;
  const fid = result.fidelity as { maxAbsDiff: number; digits: number };
  log(`converted in ${converted.toFixed(1)} s: ${String(result.model)} model, uncertainty ${String(result.uncertainty)}, input ${JSON.stringify(result.input)}, fidelity max |diff| ${fid.maxAbsDiff} on ${fid.digits} digits`);
  if (!values['no-calibrate']) {
    await calibrateModel(path.resolve(values.out), { digits, evaluateArgs }).catch((e: unknown) => fail(e instanceof Error ? e.message : String(e), 1));
    log(`imported and calibrated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  console.log(JSON.stringify({ ...result, seconds: { convert: Number(converted.toFixed(1)), total: Number(((performance.now() - t0) / 1000).toFixed(1)) } }));
} else {
  fail(`unknown command ${command ?? ''}: import or calibrate`);
}
