// `npm run bench:grpc`: OIP throughput over gRPC and over HTTP, on the same runtime process, in
// the same run. Starts `runtime/main.ts` (default model, T = 30, other settings default) on free
// loopback ports and drives it closed-loop: C concurrent callers, each sending one single-image
// infer (a real held-out MNIST digit as PNG) as soon as its previous one is answered. Three
// client forms, interleaved in rounds so that drift on a shared machine hits each alike:
//   grpc        inference.GRPCInferenceService/ModelInfer, image in raw_input_contents (@grpc/grpc-js)
//   http-binary POST /v2/models/mnist-cnn/infer, binary tensor data extension (as tritonclient.http)
//   http-json   the same in JSON, base64 image, JSON outputs
// The digit answered is compared with the image's MNIST label (a mismatch is the model's error,
// the same for every form). Client and server share the machine's CPUs.
// Prints answered requests/s and latency percentiles per form; asserts nothing.
import http from 'node:http';
import os from 'node:os';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { loadOipDefinition } from '../../runtime/grpc/proto.js';
import { encodeBytesElements } from '../../runtime/oip/binary-tensor.js';
import { encodeDigit, mnistDigit } from '../../test/support/images.js';
import { RuntimeProcess } from '../../test/support/runtime-process.js';
import { percentile } from './load/stats.js';

const { values } = parseArgs({
  options: {
    samples: { type: 'string', default: '30' },
    concurrency: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '15' },
    rounds: { type: 'string', default: '2' },
  },
});
const concurrency = Number(values.concurrency);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const say = (line: string) => process.stdout.write(line + '\n');

const rp = await RuntimeProcess.start({ env: { MC_SAMPLES: values.samples!, LOG_LEVEL: 'warn' } });
say(`runtime pid ${rp.pid}: HTTP ${rp.port}, gRPC ${rp.grpcPort}; T = ${values.samples}; ${concurrency} concurrent callers; ${rounds} rounds of ${seconds} s per form; ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})`);

const pngs = await Promise.all(Array.from({ length: 100 }, (_, i) => encodeDigit(mnistDigit(i).pixels, { format: 'png', invert: true, scale: 2 })));
const labels = pngs.map((_, i) => mnistDigit(i).label);

type Call = (i: number) => Promise<number>; // resolves with the digit answered

const pkg = grpc.loadPackageDefinition(loadOipDefinition()) as unknown as { inference: { GRPCInferenceService: grpc.ServiceClientConstructor } };
const client = new pkg.inference.GRPCInferenceService(`127.0.0.1:${rp.grpcPort}`, grpc.credentials.createInsecure()) as unknown as {
  ModelInfer(req: object, cb: (e: grpc.ServiceError | null, res: { outputs: { name: string }[]; raw_output_contents: Buffer[] }) => void): void;
  close(): void;
};
const grpcCall: Call = (i) =>
  new Promise((resolve, reject) =>
    client.ModelInfer({ model_name: 'mnist-cnn', inputs: [{ name: 'image', datatype: 'BYTES', shape: [1] }], outputs: [{ name: 'digit' }], raw_input_contents: [encodeBytesElements([pngs[i]])] }, (e, res) =>
      e ? reject(e) : resolve(res.raw_output_contents[0].readInt32LE(0)),
    ),
  );

const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
function post(body: Buffer, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: rp.port, path: '/v2/models/mnist-cnn/infer', method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
const httpBinary: Call = async (i) => {
  const raw = encodeBytesElements([pngs[i]]);
  const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: raw.length } }], outputs: [{ name: 'digit', parameters: { binary_data: true } }] }));
  const res = await post(Buffer.concat([header, raw]), { 'inference-header-content-length': String(header.length), 'content-type': 'application/octet-stream' });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  return res.body.readInt32LE(Number(res.headers['inference-header-content-length']));
};
const httpJson: Call = async (i) => {
  const body = Buffer.from(JSON.stringify({ inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], data: [pngs[i].toString('base64')] }], outputs: [{ name: 'digit' }] }));
  const res = await post(body, { 'content-type': 'application/json' });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  return (JSON.parse(res.body.toString()) as { outputs: { data: number[] }[] }).outputs[0].data[0];
};

interface Tally {
  ok: number;
  wrong: number;
  failed: number;
  ms: number[];
  seconds: number;
}

async function drive(call: Call, tally: Tally): Promise<void> {
  const end = performance.now() + seconds * 1000;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const i = next++ % pngs.length;
        const t0 = performance.now();
        try {
          const digit = await call(i);
          tally.ms.push(performance.now() - t0);
          if (digit === labels[i]) tally.ok++;
          else tally.wrong++;
        } catch {
          tally.failed++;
        }
      }
    }),
  );
  tally.seconds += seconds;
}

const forms: [string, Call][] = [['grpc', grpcCall], ['http-binary', httpBinary], ['http-json', httpJson]];
const tallies = new Map(forms.map(([name]) => [name, { ok: 0, wrong: 0, failed: 0, ms: [], seconds: 0 } as Tally]));
say(`load average before: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (a shared machine: other work runs beside the bench)`);
say('warm-up: one pass per form');
for (const [, call] of forms) await drive(call, { ok: 0, wrong: 0, failed: 0, ms: [], seconds: 0 }).catch(() => undefined);
for (let r = 1; r <= rounds; r++) {
  for (const [name, call] of r % 2 ? forms : [...forms].reverse()) {
    await drive(call, tallies.get(name)!);
    const t = tallies.get(name)!;
    say(`  round ${r} ${name}: ${t.ok + t.wrong} answered so far`);
  }
}
say(`load average after: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
say('');
say('| form | answered req/s | p50 ms | p95 ms | p99 ms | digit ≠ label | failed |');
say('| --- | --- | --- | --- | --- | --- | --- |');
for (const [name] of forms) {
  const t = tallies.get(name)!;
  const ms = [...t.ms].sort((a, b) => a - b);
  const f = (x: number) => x.toFixed(1);
  say(`| ${name} | ${f((t.ok + t.wrong) / t.seconds)} | ${f(percentile(ms, 50))} | ${f(percentile(ms, 95))} | ${f(percentile(ms, 99))} | ${t.wrong} | ${t.failed} |`);
}
client.close();
agent.destroy();
await rp.stop();
