import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDocker } from '../support/images.js';
import { readObject, type TestConsole } from '../support/console.js';
import {
  allLogLines,
  ENDED,
  jobRequest,
  submit,
  untilStatus,
  writePoolsConfig,
  startJobsConsole,
  closeJobsConsole,
  consoleLabel,
} from '../support/jobs.js';

let tc: TestConsole;
let image: string;

beforeAll(async () => {
  ({ tc, image } = await startJobsConsole({ CONFIG_FILE: writePoolsConfig(), STOP_GRACE_SECONDS: '2' }));
});

afterAll(() => closeJobsConsole(tc));

const threeNodes = { resources: { pool: 'public', type: 'CPU', flavor: 'cpu.tiny', nodes: 3 } };

// The chief (rank 0) listens for each worker on a port of its own (MASTER_PORT + rank) and
// answers "ack"; each worker reaches it by hostname and retries until it has the answer. One
// listener per worker, and an answer, because a connection that arrives while a listener is
// closing is accepted by the kernel and then dropped: the worker would think it was heard.
// Every node prints its view of the environment.
const RENDEZVOUS = [
  'echo "rank=$RANK world=$WORLD_SIZE index=$DLS_TASK_INDEX of $DLS_TASK_NUMBER host=$(hostname) master=$MASTER_ADDR:$MASTER_PORT"',
  'echo "hosts=$BATCH_CUSTOM0_HOSTS,$BATCH_CUSTOM1_HOSTS,$BATCH_CUSTOM2_HOSTS"',
  'if [ "$RANK" = 0 ]; then',
  '  for i in 1 2; do (echo ack | nc -l -p $((MASTER_PORT + i)) > /home/work/heard-$i) & done; wait',
  '  cat /home/work/heard-1 /home/work/heard-2; echo "chief heard both workers"; echo "{\\"chief\\":true}" > /home/work/outputs/model.json',
  'else',
  '  for t in $(seq 1 150); do',
  '    r=$(echo "hello from rank $RANK on $(hostname)" | nc -w 2 "$MASTER_ADDR" $((MASTER_PORT + RANK))); [ "$r" = ack ] && break; sleep 0.2',
  '  done',
  '  echo "worker $RANK" > /home/work/outputs/worker-$RANK.txt',
  'fi',
].join('\n');

describe('distributed jobs (Compute Nodes > 1)', () => {
  it('runs 3 nodes that reach each other by hostname on a private network, with per-node logs', async () => {
    const job = await submit(tc, jobRequest('dist-ok', image, RENDEZVOUS, threeNodes));
    expect(job.nodes.map((n) => n.hostname)).toEqual(['dist-ok-v001-0', 'dist-ok-v001-1', 'dist-ok-v001-2']);
    const running = await untilStatus(tc, job, ['Running', ...ENDED]);
    const nets = await testDocker().listNetworks({ filters: { label: [`tc.job-id=${running.id}`, consoleLabel(tc.dataDir)] } });
    if (running.status === 'Running') {
      expect(nets).toHaveLength(1);
      expect(nets[0]!.Internal).toBe(true);
    }
    const end = await untilStatus(tc, job, ENDED);
    expect(end.status, end.reason ?? '').toBe('Successful');
    expect(end.nodes.map((n) => [n.index, n.state, n.exitCode])).toEqual([
      [0, 'exited', 0],
      [1, 'exited', 0],
      [2, 'exited', 0],
    ]);
    expect(end.events.filter((e) => e.type === 'node-started')).toHaveLength(3);
    expect(end.events.filter((e) => e.type === 'node-exited')).toHaveLength(3);

    const chief = (await allLogLines(tc, job, 0)).map((l) => l.text);
    expect(chief).toContain('hello from rank 1 on dist-ok-v001-1');
    expect(chief).toContain('hello from rank 2 on dist-ok-v001-2');
    expect(chief).toContain('chief heard both workers');
    expect(chief).toContain('rank=0 world=3 index=0 of 3 host=dist-ok-v001-0 master=dist-ok-v001-0:29500');
    const worker2 = (await allLogLines(tc, job, 2)).map((l) => l.text);
    expect(worker2).toContain('rank=2 world=3 index=2 of 3 host=dist-ok-v001-2 master=dist-ok-v001-0:29500');
    expect(worker2).toContain('hosts=dist-ok-v001-0:6666,dist-ok-v001-1:6666,dist-ok-v001-2:6666');

    // Each node's log file, and every node's outputs in the one output path.
    expect(await readObject(tc.store, 'jobs', 'logs/dist-ok-V001-worker-1.log')).toContain('rank=1 world=3');
    expect(await readObject(tc.store, 'jobs', 'out/dist-ok/model.json')).toContain('chief');
    expect(await readObject(tc.store, 'jobs', 'out/dist-ok/worker-2.txt')).toContain('worker 2');
    // Nothing of the job stays on the engine.
    expect(await testDocker().listNetworks({ filters: { label: [`tc.job-id=${end.id}`, consoleLabel(tc.dataDir)] } })).toEqual([]);
    expect(await testDocker().listContainers({ all: true, filters: { label: [`tc.job-id=${end.id}`, consoleLabel(tc.dataDir)] } })).toEqual(
      [],
    );
  });

  it('fails on the first failing node, naming it, and stops the others', async () => {
    const cmd = 'if [ "$RANK" = 1 ]; then echo "worker 1 gives up"; exit 3; fi; echo "rank $RANK waits"; sleep 300';
    const job = await submit(tc, jobRequest('dist-fail', image, cmd, threeNodes));
    const end = await untilStatus(tc, job, ENDED);
    expect(end.status).toBe('Running failed');
    expect(end.reason).toBe('training failed: node 1 (dist-fail-v001-1) exited with code 3');
    const codes = Object.fromEntries(end.nodes.map((n) => [n.index, n.exitCode]));
    expect(codes[1]).toBe(3);
    // The others were stopped by the console (SIGTERM: 143), not left running.
    expect(codes[0]).not.toBe(0);
    expect(codes[2]).not.toBe(0);
    expect((await allLogLines(tc, job, 1)).map((l) => l.text)).toContain('worker 1 gives up');
    expect(await testDocker().listContainers({ all: true, filters: { label: [`tc.job-id=${end.id}`, consoleLabel(tc.dataDir)] } })).toEqual(
      [],
    );
  });

  it('gives a log per node through the API and refuses a node the job does not have', async () => {
    const res = await tc.app.inject({ url: '/api/v1/training-jobs/dist-ok/versions/V001/logs?node=3' });
    expect(res.statusCode).toBe(400);
    expect(res.json().fields[0].path).toBe('node');
  });
});
