import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedFiles } from './outputs.js';

// `npm run generate`: writes every generated file; `-- --check` only lists the stale ones (exit 1).
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const check = process.argv.includes('--check');
const stale: string[] = [];
for (const f of generatedFiles()) {
  const file = path.join(root, f.path);
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  if (current === f.content) continue;
  stale.push(f.path);
  if (!check) fs.writeFileSync(file, f.content);
}
if (check && stale.length > 0) {
  console.error(`stale generated files (run npm run generate): ${stale.join(', ')}`);
  process.exit(1);
}
console.log(stale.length ? `${check ? 'stale' : 'wrote'}: ${stale.join(', ')}` : 'generated files are up to date');
