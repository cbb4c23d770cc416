import { mkdtemp, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, ModelMismatchError, parseConfig, resolveModelUri, resolveServedModel } from '../../../../runtime/config.js';

const metadata = { name: 'mnist-cnn', version: '7', inference: { samples: 30, reliabilityThreshold: 0.94 }, calibration: { samples: 30 } };

describe('runtime config', () => {
  it('serves the default model on 8080 with metrics on 9090 when nothing is set', () => {
    const c = parseConfig({});
    expect(c).toMatchObject({ port: 8080, metricsPort: 9090, modelName: 'mnist-cnn', modelTrack: 'stable', modelUri: undefined, backend: 'auto' });
    // the libvips operation cache is off: requests never repeat an operation on the same bytes
    expect(c.libvipsCacheMb).toBe(0);
    expect(c.samples).toBeUndefined();
    expect(c.reliabilityThreshold).toBeUndefined();
  });

  it('reads every SPEC variable', () => {
    const c = parseConfig({
      PORT: '8081',
      METRICS_PORT: '9091',
      MODEL_URI: 'file:///mnt/models/x',
      MODEL_NAME: 'postcodes',
      MODEL_VERSION: '4',
      MODEL_TRACK: 'canary',
      MC_SAMPLES: '12',
      MAX_BATCH_SIZE: '32',
      BATCH_TIMEOUT_MS: '7',
      MAX_QUEUE: '100',
      MAX_IMAGES_PER_REQUEST: '10',
      REQUEST_TIMEOUT_MS: '1500',
      RELIABILITY_THRESHOLD: '0.5',
      MAX_BODY_BYTES: '1000',
      MAX_INPUT_PIXELS: '2000',
      LOG_LEVEL: 'warn',
      PREPROCESS_WORKERS: '0',
      SHUTDOWN_DELAY_MS: '5000',
      SHUTDOWN_TIMEOUT_MS: '60000',
      TFJS_BACKEND: 'wasm',
      LIBVIPS_CACHE_MB: '16',
    });
    expect(c).toMatchObject({
      port: 8081, metricsPort: 9091, modelUri: 'file:///mnt/models/x', modelName: 'postcodes', modelVersion: '4', modelTrack: 'canary',
      samples: 12, maxBatchSize: 32, batchTimeoutMs: 7, maxQueue: 100, maxImagesPerRequest: 10, requestTimeoutMs: 1500,
      reliabilityThreshold: 0.5, maxBodyBytes: 1000, maxInputPixels: 2000, logLevel: 'warn',
      preprocessWorkers: 0, shutdownDelayMs: 5000, shutdownTimeoutMs: 60000, backend: 'wasm', libvipsCacheMb: 16,
    });
  });

  it('treats an empty variable as unset', () => {
    expect(parseConfig({ MC_SAMPLES: '', PORT: ' ' })).toMatchObject({ samples: undefined, port: 8080 });
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['MC_SAMPLES', '0'],
    ['MC_SAMPLES', '257'],
    ['MC_SAMPLES', '2.5'],
    ['RELIABILITY_THRESHOLD', '1.5'],
    ['MODEL_TRACK', 'beta'],
    ['MAX_BATCH_SIZE', '-1'],
    ['LOG_LEVEL', 'loud'],
    ['TFJS_BACKEND', 'native'],
    ['MODEL_NAME', 'has space'],
    ['LIBVIPS_CACHE_MB', '-1'],
    ['LIBVIPS_CACHE_MB', 'lots'],
  ])('refuses %s=%s with a message naming the variable', (name, value) => {
    expect(() => parseConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => parseConfig({ [name]: value })).toThrow(new RegExp(`${name}="${value}"`));
  });

  it('refuses a queue smaller than one full request', () => {
    expect(() => parseConfig({ MAX_QUEUE: '5', MAX_IMAGES_PER_REQUEST: '6' })).toThrow(/MAX_QUEUE \(5\) must be at least MAX_IMAGES_PER_REQUEST \(6\)/);
  });

  it('falls back to the model metadata for unset inference settings and lets the environment win', () => {
    expect(resolveServedModel(parseConfig({}), metadata)).toEqual({
      name: 'mnist-cnn', storeName: 'mnist-cnn', version: '7', track: 'stable', samples: 30, reliabilityThreshold: 0.94, uncertainty: 'mc-dropout',
    });
    expect(resolveServedModel(parseConfig({ MODEL_NAME: 'postcodes', MODEL_VERSION: '7', MC_SAMPLES: '30', RELIABILITY_THRESHOLD: '0' }), metadata)).toEqual({
      name: 'postcodes', storeName: 'mnist-cnn', version: '7', track: 'stable', samples: 30, reliabilityThreshold: 0, uncertainty: 'mc-dropout',
    });
  });

  it('serves a model without active dropout at T = 1 and refuses another MC_SAMPLES (SPEC §7, uncertainty "none")', () => {
    const { calibration: _, ...uncalibrated } = metadata;
    expect(resolveServedModel(parseConfig({}), uncalibrated, 'none')).toMatchObject({ samples: 1, uncertainty: 'none', reliabilityThreshold: 0.94 });
    expect(() => resolveServedModel(parseConfig({ MC_SAMPLES: '30' }), uncalibrated, 'none')).toThrow(/MC_SAMPLES \(T\) is 30 but the model has no active dropout/);
    // an imported version not calibrated yet has no T to contradict
    expect(resolveServedModel(parseConfig({ MC_SAMPLES: '12' }), uncalibrated).samples).toBe(12);
  });

  it('refuses a MODEL_VERSION the loaded model contradicts (#15 item 12)', () => {
    expect(() => resolveServedModel(parseConfig({ MODEL_VERSION: '3' }), metadata)).toThrow(ModelMismatchError);
    expect(() => resolveServedModel(parseConfig({ MODEL_VERSION: '3' }), metadata)).toThrow(/MODEL_VERSION is "3" but the model loaded is version "7"/);
  });

  it('refuses a T the confidence mapping was not calibrated at (#15 item 13)', () => {
    expect(() => resolveServedModel(parseConfig({ MC_SAMPLES: '5' }), metadata)).toThrow(/MC_SAMPLES \(T\) is 5 but .* calibrated at T = 30/);
    // a model whose served default disagrees with its own calibration is refused too
    expect(() => resolveServedModel(parseConfig({}), { ...metadata, inference: { samples: 8, reliabilityThreshold: 0.9 } })).toThrow(ModelMismatchError);
  });

  it('defaults MODEL_URI to the newest numeric version under the model directory', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'models-'));
    for (const v of ['2', '10', 'latest']) await mkdir(path.join(dir, v));
    expect(await resolveModelUri(parseConfig({}), dir)).toBe(path.join(dir, '10'));
    expect(await resolveModelUri(parseConfig({ MODEL_URI: 'https://x/m/' }), dir)).toBe('https://x/m/');
    await expect(resolveModelUri(parseConfig({}), path.join(dir, 'none'))).rejects.toThrow(/MODEL_URI is not set/);
  });

  it('finds the bundled default model', async () => {
    expect(await resolveModelUri(parseConfig({}))).toMatch(/models\/mnist-cnn\/\d+$/);
  });
});
