import { readFile } from 'node:fs/promises';
import { BEGIN, defaultEvaluation, END, readmeBlock, withBlock } from '../../../../runtime/train/readme-table.js';

describe("README's model table", () => {
  it('is the table generated from the default model\'s evaluation.json (npx tsx runtime/train/readme-table.ts regenerates it)', async () => {
    const source = await defaultEvaluation();
    const evaluation = JSON.parse(await readFile(source, 'utf8')) as { size?: { mode: string } };
    // the README's table is the full evaluation's, never a quick one (evaluations before the size was recorded were full)
    expect(evaluation.size?.mode ?? 'full').toBe('full');
    const readme = await readFile('README.md', 'utf8');
    expect(readme).toContain(BEGIN);
    expect(withBlock(readme, readmeBlock(evaluation, source))).toBe(readme);
  });

  it('fails on drift: a changed figure changes the block', async () => {
    const source = await defaultEvaluation();
    const evaluation = JSON.parse(await readFile(source, 'utf8')) as { sets: { t10k: { accuracy: number } } };
    const readme = await readFile('README.md', 'utf8');
    evaluation.sets.t10k.accuracy -= 0.01;
    expect(withBlock(readme, readmeBlock(evaluation, source))).not.toBe(readme);
    expect(() => withBlock('no markers', 'x')).toThrow(/markers/);
    expect(readmeBlock(evaluation, source).endsWith(END)).toBe(true);
  });
});
