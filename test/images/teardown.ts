import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Global teardown of the `images` project: stops the engine only if this run's setup started it. */
export default function teardown(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const started = path.join(root, '.images', '.engine-started-by-tests');
  if (!fs.existsSync(started)) return;
  fs.rmSync(started);
  execFileSync('bash', [path.join(root, 'hack/images/engine-ctl.sh'), 'stop'], { stdio: 'inherit' });
}
