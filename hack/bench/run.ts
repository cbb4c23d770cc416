// `npm run bench`: every SPEC §6 figure on this machine — engine, HTTP runtime, operator. Prints
// figures and asserts nothing about speed. `--only engine,http,operator` picks parts; `--quick` shortens.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runEngineBench } from './engine.js';
import { markdown, runHttpBench } from './http.js';
import { runOperatorBench } from './operator.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const { values } = parseArgs({ options: { only: { type: 'string' }, quick: { type: 'boolean', default: false }, count: { type: 'string' } } });
const parts = new Set((values.only ?? 'engine,http,operator').split(','));
const say = (line: string) => process.stdout.write(line + '\n');

say(`digitserve bench — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);

if (parts.has('engine')) {
  say('\n## engine (default model)');
  await runEngineBench({ secondsPerCase: values.quick ? 0.5 : 2, log: say });
}

if (parts.has('http')) {
  say('\n## runtime over HTTP (npm start vs a naive MC-dropout server, same run)');
  const result = await runHttpBench({ log: say, ...(values.quick ? { maxSeconds: 5, openSeconds: 5 } : {}) });
  say(markdown(result));
}

if (parts.has('operator')) {
  say('\n## operator (local control plane)');
  const started = !process.env.KUBECONFIG;
  const cli = (cmd: string) => {
    const r = spawnSync(path.join(root, 'node_modules', '.bin', 'tsx'), [path.join(root, 'hack', 'cluster', 'cli.ts'), cmd], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`cluster ${cmd} failed`);
  };
  if (started) cli('up');
  try {
    const result = await runOperatorBench({
      count: values.count ? Number(values.count) : values.quick ? 20 : 200,
      steadyWindowMs: values.quick ? 20_000 : 60_000,
      kubeconfig: process.env.KUBECONFIG ?? path.join(root, '.cluster', 'kubeconfig'),
      log: say,
    });
    say(JSON.stringify(result, null, 2));
  } finally {
    if (started) cli('down');
  }
}
