import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { CreateTrainingJobRequest, Flavor } from '@tc/contracts';
import { launchPlan } from '../launch-plan.js';
import { kubernetesManifests, type KubernetesOptions } from './manifests.js';

/** A value inside a rendered object by its path ("spec.replicatedJobs.0.name"); undefined when absent. */
function at(o: unknown, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);
}
const POD = 'spec.replicatedJobs.0.template.spec.template.spec';

const DOC = fileURLToPath(new URL('../../../../../docs/SCALE-OUT.md', import.meta.url));

/** The example of docs/SCALE-OUT.md: the demo job on 3 nodes of a pool without network. */
function example(network = false, gpus = 0) {
  const spec = {
    name: 'linreg',
    algorithm: {
      source: 'custom',
      imagePath: 'registry.lab:5000/demo/linreg-train:1.0',
      codeDir: 'obs://demo/code/linreg/',
      bootCommand: 'python /home/work/user-job-dir/linreg/train.py',
    },
    data: { source: 'path', path: 'obs://demo/data/linreg/' },
    trainOutput: 'obs://demo/output/linreg/',
    env: [{ name: 'EPOCHS', value: '20' }],
  } as CreateTrainingJobRequest;
  const plan = launchPlan({
    job: { id: 7, name: 'linreg', version: 'V003', nodeCount: 3, spec },
    flavor: { id: 'cpu.2u4g', type: 'CPU', vcpus: 2, memoryGiB: 4, gpus } as Flavor,
    pool: { network },
    imageId: 'sha256:0d5c…',
    dataUrl: 'obs://demo/data/linreg/',
    consoleId: '3f2a9c1e-0b7d-4e55-9a61-5d0c2b8e7f10',
    workDirHostPaths: ['', '', ''],
    logMaxBytes: 64 * 1024 * 1024,
  });
  const options: KubernetesOptions = {
    namespace: 'training',
    queue: 'public',
    agentImage: 'registry.lab:5000/tc-node-agent:4e1f0a9b2c3d',
    imageRef: 'registry.lab:5000/demo/linreg-train@sha256:9b1e…',
    stageManifestUrl: 'https://s3.lab/tc-manifests/7/stage.json?X-Amz-Signature=…',
    uploadManifestUrl: 'https://s3.lab/tc-manifests/7/upload.json?X-Amz-Signature=…',
    storeEgress: { cidr: '10.20.0.15/32', port: 443 },
  };
  return kubernetesManifests(plan, options);
}

describe('the Kubernetes design: the objects one job becomes', () => {
  it('one indexed JobSet for all ranks, admitted whole by Kueue, no restarts', () => {
    const [service, jobSet] = example();
    expect(at(jobSet, 'kind')).toBe('JobSet');
    expect(at(jobSet, 'metadata.labels')).toMatchObject({ 'kueue.x-k8s.io/queue-name': 'public', 'tc.job-id': '7' });
    expect(Object.keys(at(jobSet, 'metadata.labels') as object)).not.toContain('tc.node');
    expect(at(jobSet, 'spec.suspend')).toBe(true);
    expect(at(jobSet, 'spec.failurePolicy')).toEqual({ maxRestarts: 0 });
    expect(at(jobSet, 'spec.replicatedJobs.0.template.spec')).toMatchObject({
      completionMode: 'Indexed',
      completions: 3,
      parallelism: 3,
      backoffLimit: 0,
    });
    // The headless Service selects exactly the job's pods, so hostnames resolve as on one host.
    expect(at(service, 'spec.clusterIP')).toBe('None');
    expect(at(jobSet, 'spec.replicatedJobs.0.template.spec.template.metadata.labels')).toEqual(at(service, 'spec.selector'));
    expect(at(jobSet, 'spec.network')).toEqual({ enableDNSHostnames: true, subdomain: 'linreg-v003' });
  });

  it('the container contract: UID 1101, no privileges, the flavor as limits, the rank from the index', () => {
    const jobSet = example()[1];
    const train = at(jobSet, `${POD}.containers.0`);
    expect(at(train, 'image')).toContain('@sha256:');
    expect(at(train, 'securityContext')).toMatchObject({
      runAsUser: 1101,
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(at(train, 'resources.limits')).toEqual({ cpu: '2000m', memory: String(4 * 1024 ** 3) });
    const env = at(train, 'env') as { name: string; value?: string; valueFrom?: unknown }[];
    expect(
      at(
        env.find((e) => e.name === 'RANK'),
        'valueFrom.fieldRef.fieldPath',
      ),
    ).toContain('job-completion-index');
    expect(env.find((e) => e.name === 'WORLD_SIZE')?.value).toBe('3');
    expect(at(jobSet, `${POD}.automountServiceAccountToken`)).toBe(false);
    // Staging before, upload beside: the agent's image, never the user's.
    const init = at(jobSet, `${POD}.initContainers`) as { name: string; image: string; restartPolicy?: string }[];
    expect(init.map((c) => [c.name, c.image.startsWith('registry.lab:5000/tc-node-agent:')])).toEqual([
      ['stage', true],
      ['upload', true],
    ]);
    expect(init[1]?.restartPolicy).toBe('Always');
    expect(at(example(false, 2)[1], `${POD}.containers.0.resources.limits`)).toMatchObject({ 'nvidia.com/gpu': '2' });
  });

  it('no network beyond the job, DNS and the store unless the pool allows it', () => {
    const policy = example()[2];
    expect(at(policy, 'kind')).toBe('NetworkPolicy');
    expect(at(policy, 'spec.policyTypes')).toEqual(['Ingress', 'Egress']);
    expect(at(policy, 'spec.egress.2.to.0.ipBlock.cidr')).toBe('10.20.0.15/32');
    expect(example(true)).toHaveLength(2);
  });

  it('is what docs/SCALE-OUT.md shows (UPDATE_DOCS=1 rewrites the block)', () => {
    const yaml = example()
      .map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false }))
      .join('---\n');
    const doc = readFileSync(DOC, 'utf8');
    const begin = '<!-- manifests:begin -->\n```yaml\n';
    const end = '```\n<!-- manifests:end -->';
    const a = doc.indexOf(begin);
    const b = doc.indexOf(end);
    expect(a, 'docs/SCALE-OUT.md has the manifests block').toBeGreaterThanOrEqual(0);
    const shown = doc.slice(a + begin.length, b);
    if (process.env.UPDATE_DOCS === '1' && shown !== yaml) writeFileSync(DOC, doc.slice(0, a + begin.length) + yaml + doc.slice(b));
    else expect(shown).toBe(yaml);
  });
});
