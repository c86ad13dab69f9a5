import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const base = { DATA_DIR: '/tmp/tc-config-test' };

describe('ENGINE configuration', () => {
  it('is one Docker engine unless told otherwise', () => {
    expect(loadConfig(base).engine).toEqual({ kind: 'docker' });
  });

  it('takes a swarm with its registry, the agent port and a store the nodes reach', () => {
    const c = loadConfig({ ...base, ENGINE: 'swarm', REGISTRY: 'registry.lab:5000', EMBEDDED_S3_HOST: '10.0.0.5', AGENT_PORT: '7800' });
    expect(c.engine).toEqual({ kind: 'swarm', registry: 'registry.lab:5000', agentPort: 7800 });
  });

  it.each([
    [{ ENGINE: 'kubernetes' }, 'ENGINE'],
    [{ ENGINE: 'swarm', EMBEDDED_S3_HOST: '10.0.0.5' }, 'REGISTRY'],
    [{ ENGINE: 'swarm', REGISTRY: 'http://registry.lab', EMBEDDED_S3_HOST: '10.0.0.5' }, 'REGISTRY'],
    [{ ENGINE: 'swarm', REGISTRY: 'registry.lab:5000' }, 'EMBEDDED_S3_HOST'],
    [
      {
        ENGINE: 'swarm',
        REGISTRY: 'registry.lab:5000',
        S3_ENDPOINT: 'http://127.0.0.1:9000',
        S3_ACCESS_KEY_ID: 'k',
        S3_SECRET_ACCESS_KEY: 's',
      },
      'S3_ENDPOINT',
    ],
  ])('refuses %j with a message naming %s', (env, name) => {
    expect(() => loadConfig({ ...base, ...env })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, ...env })).toThrow(new RegExp(`^invalid configuration:\\n  ${name}`, 'm'));
  });
});
