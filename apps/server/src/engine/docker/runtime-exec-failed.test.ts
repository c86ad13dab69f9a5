import { describe, expect, it } from 'vitest';
import { runtimeExecFailed } from './docker-node-agent.js';

describe('runtimeExecFailed', () => {
  it("knows the runtime's own failure from the command's", () => {
    const oci =
      'OCI runtime exec failed: exec failed: unable to start container process: error starting setns process: fork/exec /proc/self/exe: no such file or directory: unknown';
    expect(runtimeExecFailed(126, oci)).toBe(true);
    // The agent's own exits, whatever they say.
    expect(runtimeExecFailed(1, oci)).toBe(false);
    expect(runtimeExecFailed(126, 'permission denied')).toBe(false);
    expect(runtimeExecFailed(null, oci)).toBe(false);
  });
});
