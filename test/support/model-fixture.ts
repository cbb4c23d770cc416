import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './runtime-process.js';

/** The bundled default model version the fixtures are made from. */
export const DEFAULT_MODEL_VERSION_DIR = path.join(repoRoot, 'models', 'mnist-cnn', '1');

/**
 * A model version for tests that need the engine faster (small T) or slower (large T) than the
 * default model's T = 30: the default model's weights, with a metadata.json that states T as
 * both the served and the calibrated T. The runtime refuses an MC_SAMPLES its model was not
 * calibrated at (#15 item 13), so such tests serve this fixture instead of overriding T. Its
 * confidence mapping is the T = 30 one, not refitted: no test that uses it judges confidences.
 * Made once per T and process, in the OS temp dir; returns the version directory.
 */
export function modelCalibratedAt(samples: number, version = '1'): string {
  const dir = path.join(os.tmpdir(), `digitserve-model-T${samples}-v${version}-${process.pid}`, version);
  fs.mkdirSync(dir, { recursive: true });
  const meta = JSON.parse(fs.readFileSync(path.join(DEFAULT_MODEL_VERSION_DIR, 'metadata.json'), 'utf8')) as {
    version: string;
    inference: { samples: number };
    calibration: { samples: number };
  };
  meta.version = version;
  meta.inference.samples = samples;
  meta.calibration.samples = samples;
  for (const f of fs.readdirSync(DEFAULT_MODEL_VERSION_DIR)) {
    if (f !== 'metadata.json') fs.copyFileSync(path.join(DEFAULT_MODEL_VERSION_DIR, f), path.join(dir, f));
  }
  fs.writeFileSync(path.join(dir, 'metadata.json'), JSON.stringify(meta));
  return dir;
}

/** The version `npm start` serves: the newest numeric version directory under models/mnist-cnn. */
export function defaultModelVersion(): string {
  const dirs = fs.readdirSync(path.join(repoRoot, 'models', 'mnist-cnn')).filter((d) => /^\d+$/.test(d));
  return String(Math.max(...dirs.map(Number)));
}
