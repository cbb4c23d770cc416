import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Global setup of the `images` project: the images `npm run images` saved must exist (no skip:
 * a missing manifest or engine fails the run), the private engine of hack/images must answer
 * (started here, or a running one reused; DOCKER_HOST reaches the tests through the environment),
 * and the saved tarballs are loaded so the tests run exactly what was saved.
 * Jest loads global setup through Node's own ESM loader, without the `.js` -> `.ts` mapping the
 * tests get, so this file imports nothing of the repository's.
 */
export default function setup(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const manifestFile = path.join(root, '.images', 'images.json');
  if (!fs.existsSync(manifestFile)) throw new Error(`${manifestFile} is missing: build the images first (npm run images)`);
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as { ref: string; tar: string }[];
  const out = execFileSync('bash', [path.join(root, 'hack/images/engine-ctl.sh'), 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const [how, host] = out.split(' ');
  process.env.DOCKER_HOST = host;
  if (how === 'started') fs.writeFileSync(path.join(root, '.images', '.engine-started-by-tests'), host);
  for (const { tar } of manifest) {
    execFileSync(process.env.DOCKER_CLI ?? '/usr/bin/docker', ['load', '-q', '-i', tar], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
}
