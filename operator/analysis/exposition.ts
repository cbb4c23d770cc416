/**
 * A parser of the Prometheus text exposition format (version 0.0.4), as the runtime's /metrics
 * serves it through prom-client: `# HELP` / `# TYPE` lines, other comments and blank lines
 * skipped; samples `name{label="value",...} value [timestamp]` with label values escaped as \\,
 * \" and \n, values Go floats including +Inf, -Inf and NaN. Pure: text in, samples or a coded
 * error out. (npm's parse-prometheus-text-format is untyped, two releases, no activity since; the
 * subset here is the whole format minus exemplars and OpenMetrics, which the runtime never sends.)
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ExpositionError {
  code: 'malformed_exposition';
  message: string;
}

export type Parsed = { ok: true; samples: Sample[] } | { ok: false; error: ExpositionError };

const NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const LABEL = /[a-zA-Z_][a-zA-Z0-9_]*/y;

function parseValue(text: string): number {
  // Go's ParseFloat (Prometheus' own parser) takes these case-insensitively; prom-client writes "Nan"
  const word = text.toLowerCase();
  if (word === '+inf' || word === 'inf') return Infinity;
  if (word === '-inf') return -Infinity;
  if (word === 'nan') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`"${text}" is not a number`);
  return Number(text);
}

function parseLine(line: string): Sample {
  NAME.lastIndex = 0;
  const name = NAME.exec(line)?.[0];
  if (!name) throw new Error('no metric name');
  let at = name.length;
  const labels: Record<string, string> = {};
  if (line[at] === '{') {
    at++;
    for (;;) {
      while (line[at] === ' ') at++;
      if (line[at] === '}') break;
      LABEL.lastIndex = at;
      const label = LABEL.exec(line)?.[0];
      if (!label) throw new Error(`no label name at column ${at + 1}`);
      at += label.length;
      if (line[at] !== '=' || line[at + 1] !== '"') throw new Error(`label ${label} without ="value"`);
      at += 2;
      let value = '';
      for (;;) {
        const ch = line[at++];
        if (ch === undefined) throw new Error(`label ${label}: unterminated value`);
        if (ch === '"') break;
        if (ch === '\\') {
          const esc = line[at++];
          value += esc === 'n' ? '\n' : esc === '\\' ? '\\' : esc === '"' ? '"' : `\\${esc ?? ''}`;
        } else value += ch;
      }
      labels[label] = value;
      while (line[at] === ' ') at++;
      if (line[at] === ',') at++;
      else if (line[at] !== '}') throw new Error(`expected , or } after label ${label}`);
    }
    at++;
  }
  const rest = line.slice(at).trim().split(/[ \t]+/);
  if (rest.length < 1 || rest.length > 2 || rest[0] === '') throw new Error('expected a value and an optional timestamp');
  return { name, labels, value: parseValue(rest[0]) };
}

/** Every sample of an exposition, in order. */
export function parseExposition(text: string): Parsed {
  const samples: Sample[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      samples.push(parseLine(line));
    } catch (e) {
      return { ok: false, error: { code: 'malformed_exposition', message: `line ${i + 1}: ${(e as Error).message}: ${line.slice(0, 200)}` } };
    }
  }
  return { ok: true, samples };
}
