import { describe, expect, it } from 'vitest';
import { createDockerClient } from '../../../src/engine/docker/docker-engine.js';

interface ModemView {
  socketPath?: string;
  host?: string;
  port?: number | string;
  protocol?: string;
}

function modemOf(dockerHost: string | undefined): ModemView {
  return (createDockerClient(dockerHost) as unknown as { modem: ModemView }).modem;
}

describe('createDockerClient', () => {
  it('defaults to the local socket', () => {
    const saved = process.env.DOCKER_HOST;
    delete process.env.DOCKER_HOST;
    try {
      expect(modemOf(undefined)).toMatchObject({ socketPath: '/var/run/docker.sock' });
    } finally {
      if (saved !== undefined) process.env.DOCKER_HOST = saved;
    }
  });

  it('honours DOCKER_HOST when no host is given', () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'tcp://10.1.2.3:2375';
    try {
      expect(modemOf(undefined)).toMatchObject({ host: '10.1.2.3', port: 2375, protocol: 'http' });
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });

  it('understands unix://, tcp://, http:// and https://', () => {
    expect(modemOf('unix:///run/user/1000/docker.sock')).toMatchObject({ socketPath: '/run/user/1000/docker.sock' });
    expect(modemOf('tcp://docker.internal:2375')).toMatchObject({ host: 'docker.internal', port: 2375, protocol: 'http' });
    expect(modemOf('tcp://[::1]:2375')).toMatchObject({ host: '::1', port: 2375 });
    expect(modemOf('https://engine.example:2376')).toMatchObject({ host: 'engine.example', port: 2376, protocol: 'https' });
    expect(modemOf('tcp://engine.example:2376')).toMatchObject({ protocol: 'https' });
  });

  it('refuses what it cannot use, saying what it accepts', () => {
    expect(() => createDockerClient('ssh://me@host')).toThrow(/only unix:\/\/, tcp:\/\/, http:\/\/ and https:\/\/ are supported/);
    expect(() => createDockerClient('/var/run/docker.sock')).toThrow(/is not a URL/);
  });
});
