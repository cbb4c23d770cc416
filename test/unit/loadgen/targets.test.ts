import { inCidr, refuseTarget } from '../../../hack/loadgen/targets.js';

describe('the load generator targets only loopback and the plane’s own ranges', () => {
  test('CIDR membership', () => {
    expect(inCidr('10.0.3.7', '10.0.0.0/16')).toBe(true);
    expect(inCidr('10.1.0.1', '10.0.0.0/16')).toBe(false);
    expect(inCidr('192.168.5.5', '0.0.0.0/0')).toBe(true);
    expect(inCidr('10.0.0.1', '10.0.0.1/32')).toBe(true);
    expect(inCidr('not-an-ip', '10.0.0.0/8')).toBe(false);
    expect(inCidr('10.0.0.1', '10.0.0.0/33')).toBe(false);
  });

  test('loopback is always allowed; other addresses only inside an allowed CIDR', () => {
    expect(refuseTarget(new URL('http://127.0.0.1:8080/x'), [])).toBeUndefined();
    expect(refuseTarget(new URL('http://[::1]:8080/x'), [])).toBeUndefined();
    expect(refuseTarget(new URL('http://10.0.0.12/x'), ['10.0.0.0/16'])).toBeUndefined();
    expect(refuseTarget(new URL('http://10.0.0.12/x'), [])).toMatch(/neither loopback nor inside/);
    expect(refuseTarget(new URL('http://93.184.216.34/x'), ['10.0.0.0/16'])).toMatch(/neither loopback/);
  });

  test('hostnames and other schemes are refused before anything is sent', () => {
    expect(refuseTarget(new URL('http://example.com/x'), ['0.0.0.0/0'])).toMatch(/must be an IP address/);
    expect(refuseTarget(new URL('https://127.0.0.1/x'), [])).toMatch(/only http/);
  });
});
