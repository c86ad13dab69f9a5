import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const trustProxy = (v: string | undefined) => loadConfig({ DATA_DIR: '/tmp/tc-config-test', TRUST_PROXY: v }).trustProxy;

describe('TRUST_PROXY', () => {
  it('trusts nobody by default, and accepts true, false, hops, and addresses or CIDR ranges', () => {
    expect(trustProxy(undefined)).toBe(false);
    expect(trustProxy('')).toBe(false);
    expect(trustProxy('false')).toBe(false);
    expect(trustProxy('true')).toBe(true);
    expect(trustProxy('10.0.0.5, 172.16.0.0/12,::1,fd00::/8')).toEqual(['10.0.0.5', '172.16.0.0/12', '::1', 'fd00::/8']);
    const hops = trustProxy('1') as (address: string, hop: number) => boolean;
    expect([hops('10.0.0.1', 0), hops('10.0.0.2', 1)]).toEqual([true, false]);
  });

  it.each(['yes', '10.0.0.300', '10.0.0.0/33', '::1/129', 'proxy.example.com', '10.0.0.1,'])('refuses %j, naming the variable', (v) => {
    expect(() => trustProxy(v)).toThrow(ConfigError);
    expect(() => trustProxy(v)).toThrow(/TRUST_PROXY/);
  });
});
