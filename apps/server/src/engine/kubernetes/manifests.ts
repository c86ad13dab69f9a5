import type { LaunchPlan } from '../launch-plan.js';
import { LABEL } from '../launch-plan.js';
import { CONTAINER_UID, WORK_DIR } from '../paths.js';

/**
 * The Kubernetes backend, designed and not run (no cluster can be installed on the machines
 * this is built on): the objects the console would create for one job, from the same launch
 * plan the Docker backend uses. One JobSet (jobset.x-k8s.io) with one replicated Job of N
 * indexed pods (JOB_COMPLETION_INDEX is the rank), a headless Service so every pod resolves by
 * its hostname, Kueue's queue label for the pool, and per pod: the node agent staging into an
 * emptyDir as an init container, the training container, and the agent uploading the outputs
 * as a native sidecar once the training container has written its exit marker. See
 * docs/SCALE-OUT.md.
 */
export interface KubernetesOptions {
  namespace: string;
  /** Kueue LocalQueue of the job's pool. */
  queue: string;
  /** The node agent's image in a registry every node reaches. */
  agentImage: string;
  /** The image by digest (`repo@sha256:…`): every rank runs the same bytes. */
  imageRef: string;
  /** Where the console's staging and upload manifests are (presigned GETs of manifest objects). */
  stageManifestUrl: string;
  uploadManifestUrl: string;
  /** The object store as the pods reach it, the one place their agents may talk to. */
  storeEgress: { cidr: string; port: number };
}

type Obj = Record<string, unknown>;

const EXIT_MARKER = `${WORK_DIR}/.tc-exit-code`;

export function kubernetesManifests(plan: LaunchPlan, o: KubernetesOptions): Obj[] {
  const first = plan.containers[0];
  if (!first) throw new Error('a launch plan has at least one node');
  // The job's labels, without the node's: these objects stand for every rank.
  const { [LABEL.node]: _node, ...labels } = first.labels;
  const jobId = labels[LABEL.jobId]!;
  // JobSet and Service names are DNS labels; the hostnames' common stem is one already.
  const name = plan.hostnames[0]!.replace(/-0$/, '');
  const selector = { [LABEL.jobId]: jobId, [LABEL.console]: labels[LABEL.console]! };
  const resources = {
    limits: {
      cpu: `${first.nanoCpus / 1e6}m`,
      memory: String(first.memoryBytes),
      ...(first.gpus ? { 'nvidia.com/gpu': String(first.gpus) } : {}),
    },
    requests: { cpu: `${first.nanoCpus / 1e6}m`, memory: String(first.memoryBytes) },
  };
  const env = Object.entries(first.env).map(([k, v]) => {
    // Per-rank values come from the pod's index; the rest are the same on every rank.
    if (k === 'RANK' || k === 'DLS_TASK_INDEX')
      return { name: k, valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } };
    return { name: k, value: v };
  });
  const restricted = {
    runAsNonRoot: true,
    runAsUser: CONTAINER_UID,
    runAsGroup: CONTAINER_UID,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
  const work = { name: 'work', mountPath: WORK_DIR };
  const agent = (command: string, url: string): Obj => ({
    image: o.agentImage,
    command: ['/usr/bin/node', '/agent/agent.mjs', command, '--manifest-url', url],
    volumeMounts: [work],
    securityContext: restricted,
    resources: { limits: { cpu: '500m', memory: '512Mi' } },
  });
  const service: Obj = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: o.namespace, labels },
    // Headless: each pod's hostname (its subdomain) resolves to the pod, as on the Docker bridge.
    spec: { clusterIP: 'None', selector, publishNotReadyAddresses: true },
  };
  const jobSet: Obj = {
    apiVersion: 'jobset.x-k8s.io/v1alpha2',
    kind: 'JobSet',
    metadata: {
      name,
      namespace: o.namespace,
      labels: { ...labels, 'kueue.x-k8s.io/queue-name': o.queue },
    },
    spec: {
      // All ranks or none: one failing fails the job (the console names the rank), no restarts.
      failurePolicy: { maxRestarts: 0 },
      network: { enableDNSHostnames: true, subdomain: name },
      suspend: true, // Kueue admits the whole job when its pool has room for every rank.
      replicatedJobs: [
        {
          name: 'node',
          replicas: 1,
          template: {
            spec: {
              completionMode: 'Indexed',
              completions: plan.containers.length,
              parallelism: plan.containers.length,
              backoffLimit: 0,
              template: {
                metadata: { labels: selector },
                spec: {
                  restartPolicy: 'Never',
                  automountServiceAccountToken: false,
                  enableServiceLinks: false,
                  securityContext: { fsGroup: CONTAINER_UID },
                  initContainers: [
                    { name: 'stage', ...agent('stage', o.stageManifestUrl) },
                    // A native sidecar: it starts before the training container and outlives it,
                    // waiting for the exit marker, then uploads the outputs from the node.
                    { name: 'upload', restartPolicy: 'Always', ...agent('upload-after-exit', o.uploadManifestUrl) },
                  ],
                  containers: [
                    {
                      name: 'train',
                      image: o.imageRef,
                      // The boot command, then its exit code where the upload sidecar sees it.
                      command: ['/bin/sh', '-c', `${first.cmd[2] ?? ''}\ncode=$?; echo $code > ${EXIT_MARKER}; exit $code`],
                      env,
                      resources,
                      volumeMounts: [work],
                      securityContext: restricted,
                    },
                  ],
                  volumes: [{ name: 'work', emptyDir: {} }],
                },
              },
            },
          },
        },
      ],
    },
  };
  // No network for the job unless its pool allows it: only the job's own pods, and the store.
  const isolated = plan.network ? plan.network.internal : first.networkMode === 'none';
  const isolation: Obj | null = !isolated
    ? null
    : {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name, namespace: o.namespace, labels },
        spec: {
          podSelector: { matchLabels: selector },
          policyTypes: ['Ingress', 'Egress'],
          ingress: [{ from: [{ podSelector: { matchLabels: selector } }] }],
          egress: [
            { to: [{ podSelector: { matchLabels: selector } }] },
            // Names of the job's pods.
            {
              to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
              ports: [{ protocol: 'UDP', port: 53 }],
            },
            // The agents' presigned requests (containers of a pod share its network, so the
            // training container could reach the store too; it holds no credential for it).
            { to: [{ ipBlock: { cidr: o.storeEgress.cidr } }], ports: [{ protocol: 'TCP', port: o.storeEgress.port }] },
          ],
        },
      };
  return isolation ? [service, jobSet, isolation] : [service, jobSet];
}
