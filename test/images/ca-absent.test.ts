import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { docker, readBuildInfo, readManifest } from './support/docker.js';

// The build stages trust an extra CA (a TLS-intercepting proxy's) through a build-only base
// (hack/images/bases.sh); it must never reach a published image. Every file of every layer of a
// `docker save` tarball is stored uncompressed, so a certificate in any layer shows up as its
// PEM body or its DER bytes somewhere in the tarball.

interface Cert {
  name: string;
  pemLine: Buffer;
  der: Buffer;
}

/** The certificates of a PEM bundle: a distinctive base64 line of each and its DER encoding. */
function certsOf(bundle: string): Cert[] {
  const blocks = [...bundle.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)];
  return blocks.map((m, i) => {
    const lines = m[1].split('\n').map((l) => l.trim()).filter(Boolean);
    return { name: `certificate ${i + 1} of ${lines[1].slice(0, 16)}…`, pemLine: Buffer.from(lines[Math.floor(lines.length / 2)]), der: Buffer.from(lines.join(''), 'base64') };
  });
}

function certsFoundIn(tar: string, certs: Cert[]): string[] {
  const bytes = fs.readFileSync(tar);
  return certs.filter((c) => bytes.includes(c.pemLine) || bytes.includes(c.der)).map((c) => c.name);
}

const info = readBuildInfo();
const certs = info.buildCa ? certsOf(fs.readFileSync(info.buildCa, 'utf8')) : [];

it('knows which extra CA the build trusted (none is fine on a machine without one)', () => {
  if (info.buildCa) expect(certs.length).toBeGreaterThan(0);
  else expect(info.buildCa).toBeNull();
  console.log(`extra CA certificates trusted by the build stages: ${certs.length}`);
});

it.each(readManifest().map((e) => [e.ref, e.tar]))('%s contains none of them in any layer', (_ref, tar) => {
  expect(certsFoundIn(tar, certs)).toEqual([]);
}, 120_000);

it('would see them if they were there: the build-only image carries them', async () => {
  const tar = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'build-image-')), 'build.tar');
  try {
    await docker(['save', '-o', tar, info.buildImage], 600_000);
    expect(certsFoundIn(tar, certs)).toEqual(certs.map((c) => c.name));
  } finally {
    execFileSync('rm', ['-rf', path.dirname(tar)]);
  }
}, 600_000);
