import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeImageTar } from '../../../hack/cluster/image-tar.js';
import { kubeletConfig } from '../../../hack/cluster/node-config.js';
import { networkFor, networkNames, pickSlot } from '../../../hack/cluster/node-network.js';

describe('the real node network plan', () => {
  test('names derive from the plane directory and fit Linux interface names', () => {
    const a = networkNames('/work/a/.cluster');
    const b = networkNames('/work/b/.cluster');
    expect(a.netns).not.toBe(b.netns);
    for (const n of [a.hostVeth, a.peerVeth]) expect(n.length).toBeLessThanOrEqual(15);
    expect(networkFor('/x', 7)).toMatchObject({ hostIp: '10.201.7.1', nodeIp: '10.201.7.2', podCidr: '10.202.7.0/24' });
  });

  test('a slot is skipped when its link or pod subnet overlaps an address or route in use', () => {
    expect(pickSlot([], 5)).toBe(5);
    expect(pickSlot(['10.201.5.1/30'], 5)).toBe(6); // another node's link
    expect(pickSlot(['10.202.6.0/24', '10.201.5.0/30'], 5)).toBe(7); // another node's pods
    expect(pickSlot(['10.201.5.0/24'], 5)).toBe(6); // a wider route over the slot's link
    expect(pickSlot([], 255 + 2)).toBe(1); // wraps around
    expect(() => pickSlot(['10.202.0.0/16'], 5)).toThrow(/no free address slot/);
    expect(() => pickSlot(['10.200.0.0/15'], 5)).toThrow(/no free address slot/); // covers every link
    expect(pickSlot(['192.0.2.2/24', '10.0.0.0/16'], 255)).toBe(255);
  });
});

test('the kubelet never evicts for disk or memory and never collects imported images', () => {
  const cfg = kubeletConfig({
    paths: { containerdRoot: '/c', cniConfDir: '/n', kubeletRoot: '/k', podLogsDir: '/l' }, caCert: '/ca', cgroupRoot: '/r', volumePluginDir: '/v',
  }) as Record<string, unknown>;
  expect(Object.values(cfg.evictionHard as Record<string, string>).every((v) => v === '0%')).toBe(true);
  expect(Object.keys(cfg.evictionHard as object).sort()).toEqual(['imagefs.available', 'imagefs.inodesFree', 'memory.available', 'nodefs.available', 'nodefs.inodesFree']);
  expect(cfg).toMatchObject({ failCgroupV1: false, imageGCHighThresholdPercent: 100, podLogsDir: '/l', cgroupRoot: '/r' });
});

test('an image tar is a docker-save archive naming the image, the same bytes every time', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'image-tar-'));
  try {
    const bin = path.join(dir, 'hello');
    fs.writeFileSync(bin, '#!/bin/sh\necho hi\n');
    const spec = { ref: 'digitserve.local/hello:1', files: [{ path: 'hello', source: bin, mode: 0o755 }], entrypoint: ['/hello'], user: '65532:65532' };
    const a = await writeImageTar(spec, path.join(dir, 'a.tar'));
    const b = await writeImageTar(spec, path.join(dir, 'b.tar'));
    expect(fs.readFileSync(a).equals(fs.readFileSync(b))).toBe(true);
    const out = path.join(dir, 'x');
    fs.mkdirSync(out);
    execFileSync('tar', ['-xf', a, '-C', out]);
    const [manifest] = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { Config: string; RepoTags: string[]; Layers: string[] }[];
    expect(manifest.RepoTags).toEqual(['digitserve.local/hello:1']);
    const config = JSON.parse(fs.readFileSync(path.join(out, manifest.Config), 'utf8')) as { config: { Entrypoint: string[]; User: string }; rootfs: { diff_ids: string[] } };
    expect(config.config).toMatchObject({ Entrypoint: ['/hello'], User: '65532:65532' });
    expect(config.rootfs.diff_ids).toEqual([`sha256:${path.dirname(manifest.Layers[0])}`]);
    const listing = execFileSync('tar', ['-tvf', path.join(out, manifest.Layers[0])], { encoding: 'utf8' });
    expect(listing).toMatch(/^-rwxr-xr-x 0\/0 .* hello$/m);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
