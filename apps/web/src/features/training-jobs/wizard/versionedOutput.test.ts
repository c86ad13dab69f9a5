import { describe, expect, it } from 'vitest';
import { versionedOutput } from './versionedOutput';

describe('versionedOutput', () => {
  it('puts the new version in a folder of its own under the previous output', () => {
    expect(versionedOutput('obs://demo/output/linreg/', 'V002')).toBe('obs://demo/output/linreg/V002/');
    expect(versionedOutput('obs://demo/output/linreg', 'V002')).toBe('obs://demo/output/linreg/V002/');
  });

  it('swaps a version folder it made before instead of nesting one in another', () => {
    expect(versionedOutput('obs://demo/output/linreg/V002/', 'V003')).toBe('obs://demo/output/linreg/V003/');
    expect(versionedOutput('obs://demo/output/V1000/', 'V1001')).toBe('obs://demo/output/V1001/');
  });

  it('leaves an empty path empty, so the required rule still speaks', () => {
    expect(versionedOutput('', 'V002')).toBe('');
  });

  it('does not take a folder that only looks similar for a version', () => {
    expect(versionedOutput('obs://demo/output/V1/', 'V002')).toBe('obs://demo/output/V1/V002/');
  });
});
