import { ConfigError, parseConfig } from '../../../operator/config.js';

describe('parseConfig', () => {
  it('has production defaults: all namespaces, leader election on, ports 8383/8384 (none of the runtime\'s)', () => {
    const c = parseConfig([], {});
    expect(c).toMatchObject({
      watchNamespaces: [],
      runtimeImage: 'ghcr.io/digitserve/runtime:0.1.0',
      leaderElection: true,
      leaseName: 'digitserve-operator',
      leaseNamespace: 'default',
      leaseDurationSeconds: 15,
      renewDeadlineSeconds: 10,
      retryPeriodSeconds: 2,
      metricsPort: 8383,
      healthPort: 8384,
      progressDeadlineSeconds: 600,
      minWatchTimeoutSeconds: 300,
      gatewayApiRecheckSeconds: 60,
    });
    expect(c.identity).toMatch(/.+_[0-9a-f]{8}$/);
  });

  it('reads the environment, and flags win over it', () => {
    const env = { WATCH_NAMESPACES: 'a, b', RUNTIME_IMAGE: 'img:1', LEADER_ELECTION: 'false', POD_NAMESPACE: 'ops', POD_NAME: 'op-0' };
    expect(parseConfig([], env)).toMatchObject({ watchNamespaces: ['a', 'b'], runtimeImage: 'img:1', leaderElection: false, leaseNamespace: 'ops', identity: 'op-0' });
    expect(parseConfig(['--runtime-image', 'img:2', '--watch-namespaces=c'], env)).toMatchObject({ runtimeImage: 'img:2', watchNamespaces: ['c'] });
  });

  it('takes the watch timeout from flag or environment; 0 turns it off', () => {
    expect(parseConfig([], { MIN_WATCH_TIMEOUT_SECONDS: '5' }).minWatchTimeoutSeconds).toBe(5);
    expect(parseConfig(['--min-watch-timeout-seconds', '0'], { MIN_WATCH_TIMEOUT_SECONDS: '5' }).minWatchTimeoutSeconds).toBe(0);
    expect(() => parseConfig(['--min-watch-timeout-seconds=-1'], {})).toThrow(/min-watch-timeout-seconds must be an integer/);
  });

  it('refuses bad values with a message naming the setting', () => {
    expect(() => parseConfig(['--metrics-port', 'x'], {})).toThrow(/metrics-port must be an integer/);
    expect(() => parseConfig([], { LEADER_ELECTION: 'maybe' })).toThrow(ConfigError);
    expect(() => parseConfig(['--lease-duration-seconds', '5', '--renew-deadline-seconds', '10'], {})).toThrow(/lease-duration > renew-deadline/);
    expect(() => parseConfig(['--watch-namespaces', 'Bad_NS'], {})).toThrow(/not a valid namespace/);
    expect(() => parseConfig(['--nope'], {})).toThrow(ConfigError);
  });

  it('takes a Prometheus base URL for canary analysis (PromQL instead of scraping), unset by default', () => {
    expect(parseConfig([], {}).prometheusUrl).toBeUndefined();
    expect(parseConfig([], { PROMETHEUS_URL: 'http://prometheus.monitoring:9090' }).prometheusUrl).toBe('http://prometheus.monitoring:9090');
    expect(parseConfig(['--prometheus-url', 'https://p.example/prom/'], {}).prometheusUrl).toBe('https://p.example/prom/');
    expect(() => parseConfig(['--prometheus-url', 'prometheus:9090'], {})).toThrow(/prometheus-url must be an http/);
    expect(() => parseConfig(['--prometheus-url', 'http://p?x=1'], {})).toThrow(ConfigError);
  });
});
