import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { RuntimeProcess, repoRoot } from '../../support/runtime-process.js';

/**
 * Every `curl` line of the README's "Try it" block, run as written (from the folder the block
 * `cd`s into, against a real runtime) — only the port is the test's own. Guards the sample
 * images shipped in docs/examples and the commands that use them.
 */

const run = promisify(execFile);

interface Prediction {
  digit: number;
  reliable: boolean;
}

/** The shell block under "## Try it": its `cd` target and its curl commands, continuations joined. */
function tryItBlock(): { cwd: string; commands: string[] } {
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Try it'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README: no sh block under "## Try it"');
  const lines = block.replace(/\\\n\s*/g, '').split('\n');
  const cd = lines.find((l) => l.startsWith('cd '))?.split(/\s+/)[1];
  return {
    cwd: path.join(repoRoot, cd ?? '.'),
    commands: lines.filter((l) => l.startsWith('curl ')),
  };
}

/** The file a command sends first (`@file` or `base64 -w0 file`). */
function firstFile(command: string): string {
  const m = /@([\w.-]+)|base64 -w0 ([\w.-]+)/.exec(command);
  if (!m) throw new Error(`no image file in: ${command}`);
  return m[1] ?? m[2];
}

const expected: Record<string, (p: Prediction[]) => void> = {
  'digit.png': (p) => expect(p.map((x) => x.digit)).toEqual([7]),
  'photo.jpg': (p) => expect(p.map((x) => x.digit)).toEqual([3]),
  'one.png': (p) => expect(p.map((x) => x.digit)).toEqual([1, 2]),
  'not-a-digit.jpg': (p) => expect(p.map((x) => x.reliable)).toEqual([false]),
};

describe('the README "Try it" commands', () => {
  let runtime: RuntimeProcess;
  const { cwd, commands } = tryItBlock();

  beforeAll(async () => {
    runtime = await RuntimeProcess.start({ readyTimeoutMs: 300_000 });
  }, 360_000);
  afterAll(async () => {
    await runtime?.stop();
  }, 60_000);

  it('has the commands and the sample images they send', () => {
    expect(commands.length).toBeGreaterThanOrEqual(5);
    for (const c of commands) expect(fs.existsSync(path.join(cwd, firstFile(c)))).toBe(true);
  });

  it.each(commands)('%s', async (command) => {
    // -sS --fail-with-body: a refusal fails the command with its body instead of passing as output
    const local = command
      .replace(/^curl /, 'curl -sS --fail-with-body ')
      .replaceAll('http://localhost:8080', `http://127.0.0.1:${runtime.port}`);
    const { stdout } = await run('bash', ['-c', local], { cwd });
    const body = JSON.parse(stdout) as { predictions: Prediction[] };
    const check = expected[firstFile(command)];
    expect(check).toBeDefined();
    check(body.predictions);
  }, 120_000);
});
