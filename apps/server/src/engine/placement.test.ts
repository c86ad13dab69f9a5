import { describe, expect, it } from 'vitest';
import type { EngineNode } from './container-engine.js';
import { holdOn, placeRanks, poolOfNode, readyCapacity } from './placement.js';
import type { Capacity } from './resource-pools.js';

function node(id: string, over: Partial<EngineNode> = {}): EngineNode {
  return { id, hostname: `host-${id}`, addr: `10.0.0.${id.length}`, labels: {}, ready: true, vcpus: 4, memoryGiB: 8, gpus: 0, ...over };
}

const flavor = { vcpus: 2, memoryGiB: 4, gpus: 0 };
const none = new Map<string, Capacity>();
const ids = (r: ReturnType<typeof placeRanks>) => (r.ok ? r.nodes.map((n) => n.id) : r.reason);

describe('poolOfNode', () => {
  const pools = ['public', 'team-a'];
  it('gives a labelled node to its pool, an unlabelled one to the public pool, and a node of an unknown pool to none', () => {
    expect(poolOfNode(node('a', { labels: { 'tc.pool': 'team-a' } }), pools)).toBe('team-a');
    expect(poolOfNode(node('b', { labels: { other: 'x' } }), pools)).toBe('public');
    expect(poolOfNode(node('c', { labels: { 'tc.pool': 'team-b' } }), pools)).toBeNull();
    expect(poolOfNode(node('d', { labels: { 'tc.pool': 'public' } }), pools)).toBe('public');
  });

  it('gives an unlabelled node to none when there is no public pool', () => {
    expect(poolOfNode(node('a'), ['team-a'])).toBeNull();
  });
});

describe('placeRanks', () => {
  it('puts every rank on a different ready node, most free room first, ties by hostname', () => {
    const nodes = [node('n3', { hostname: 'c' }), node('n1', { hostname: 'a' }), node('n2', { hostname: 'b', vcpus: 8 })];
    expect(ids(placeRanks({ nodes, held: none, flavor, count: 3 }))).toEqual(['n2', 'n1', 'n3']);
    // The same input, in another order, gives the same placement.
    expect(ids(placeRanks({ nodes: [...nodes].reverse(), held: none, flavor, count: 2 }))).toEqual(['n2', 'n1']);
  });

  it('counts what holding jobs reserve on each node', () => {
    const nodes = [node('a', { hostname: 'a' }), node('b', { hostname: 'b' })];
    const held = new Map([['a', { vcpus: 3, memoryGiB: 1, gpus: 0 }]]);
    expect(ids(placeRanks({ nodes, held, flavor, count: 1 }))).toEqual(['b']);
    expect(ids(placeRanks({ nodes, held, flavor, count: 2, pool: 'team-a' }))).toBe(
      'needs 2 nodes with 2 vCPUs, 4 GiB free in pool team-a; 1 has room (vCPUs short on 1 node)',
    );
  });

  it('never puts two ranks on one node, even when it has room for both', () => {
    const nodes = [node('big', { vcpus: 64, memoryGiB: 256 })];
    expect(ids(placeRanks({ nodes, held: none, flavor, count: 2, pool: 'team-a' }))).toBe(
      'pool team-a has only 1 ready node; the job needs 2 nodes on different hosts',
    );
  });

  it('leaves out nodes that are not ready, saying how many there are', () => {
    const nodes = [node('a'), node('b', { ready: false }), node('c', { ready: false })];
    expect(ids(placeRanks({ nodes, held: none, flavor, count: 2, pool: 'p' }))).toBe(
      'pool p has only 1 ready node (of 3); the job needs 2 nodes on different hosts',
    );
    expect(ids(placeRanks({ nodes: [node('b', { ready: false })], held: none, flavor, count: 1, pool: 'p' }))).toBe(
      'pool p has no ready nodes (of 1); the job needs 1 node',
    );
    expect(ids(placeRanks({ nodes, held: none, flavor, count: 1 }))).toEqual(['a']);
  });

  it('says which resource is short on how many nodes', () => {
    const nodes = [node('a', { vcpus: 1 }), node('b', { vcpus: 1, memoryGiB: 2 }), node('c')];
    expect(ids(placeRanks({ nodes, held: none, flavor, count: 3, pool: 'team-a' }))).toBe(
      'needs 3 nodes with 2 vCPUs, 4 GiB free in pool team-a; 1 has room (vCPUs short on 2 nodes, memory short on 1 node)',
    );
    expect(ids(placeRanks({ nodes, held: none, flavor: { vcpus: 1, memoryGiB: 1, gpus: 1 }, count: 1, pool: 'x' }))).toBe(
      'needs 1 node with 1 vCPU, 1 GiB, 1 GPU free in pool x; none has room (GPUs short on 3 nodes)',
    );
  });

  it('keeps hosts with GPUs for the jobs that need them, and gives a GPU job the most free GPUs', () => {
    const nodes = [
      node('gpu', { hostname: 'a', gpus: 2, vcpus: 16 }),
      node('cpu', { hostname: 'b' }),
      node('gpu1', { hostname: 'c', gpus: 1 }),
    ];
    expect(ids(placeRanks({ nodes, held: none, flavor, count: 1 }))).toEqual(['cpu']);
    expect(ids(placeRanks({ nodes, held: none, flavor, count: 2 }))).toEqual(['cpu', 'gpu1']);
    expect(ids(placeRanks({ nodes, held: none, flavor: { vcpus: 1, memoryGiB: 1, gpus: 1 }, count: 2 }))).toEqual(['gpu', 'gpu1']);
  });

  it('absorbs float sums of GiB', () => {
    const nodes = [node('a', { memoryGiB: 0.3 })];
    const held = new Map([['a', { vcpus: 0, memoryGiB: 0.1, gpus: 0 }]]);
    expect(ids(placeRanks({ nodes, held, flavor: { vcpus: 1, memoryGiB: 0.2, gpus: 0 }, count: 1 }))).toEqual(['a']);
  });
});

describe('holdOn and readyCapacity', () => {
  it('adds a flavor per chosen node without changing the map it was given', () => {
    const held = new Map([['a', { vcpus: 1, memoryGiB: 1, gpus: 0 }]]);
    const more = holdOn(held, ['a', 'b'], flavor);
    expect([...more]).toEqual([
      ['a', { vcpus: 3, memoryGiB: 5, gpus: 0 }],
      ['b', { vcpus: 2, memoryGiB: 4, gpus: 0 }],
    ]);
    expect(held.get('a')).toEqual({ vcpus: 1, memoryGiB: 1, gpus: 0 });
  });

  it('sums the ready nodes only', () => {
    expect(readyCapacity([node('a'), node('b', { ready: false }), node('c', { gpus: 1 })])).toEqual({ vcpus: 8, memoryGiB: 16, gpus: 1 });
  });
});
