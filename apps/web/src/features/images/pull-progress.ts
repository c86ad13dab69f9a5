import type { EngineImage, PullEvent } from '@tc/contracts';

export interface LayerProgress {
  status: string;
  current: number;
  total: number | null;
}

export type PullState =
  | { phase: 'pulling'; ref: string; status: string; layers: Record<string, LayerProgress> }
  | { phase: 'done'; ref: string; pulled: boolean; image: EngineImage }
  | { phase: 'error'; ref: string; message: string };

export function startPull(ref: string): PullState {
  return { phase: 'pulling', ref, status: `Pulling ${ref}…`, layers: {} };
}

/** Statuses after which a layer's bytes are all there, whatever its last byte count said. */
const COMPLETE = /^(download complete|verifying checksum|extracting|pull complete|already exists)/i;

/** Folds one line of the pull's NDJSON answer into what the page shows. */
export function applyPullEvent(s: PullState, e: PullEvent): PullState {
  if (s.phase !== 'pulling') return s;
  if (e.type === 'done') return { phase: 'done', ref: s.ref, pulled: e.pulled, image: e.image };
  if (e.type === 'error') return { phase: 'error', ref: s.ref, message: e.message };
  if (!e.layer) return { ...s, status: e.status };
  const before = s.layers[e.layer];
  const total = e.total ?? before?.total ?? null;
  const current = COMPLETE.test(e.status) && total !== null ? total : (e.current ?? before?.current ?? 0);
  return { ...s, status: `${e.layer}: ${e.status}`, layers: { ...s.layers, [e.layer]: { status: e.status, current, total } } };
}

/** Bytes of the layers whose size is known; percent null before any size is. */
export function pullTotals(s: PullState): { current: number; total: number; percent: number | null } {
  if (s.phase !== 'pulling') return { current: 0, total: 0, percent: s.phase === 'done' ? 100 : null };
  let current = 0;
  let total = 0;
  for (const l of Object.values(s.layers)) {
    if (l.total === null || l.total <= 0) continue;
    current += Math.min(l.current, l.total);
    total += l.total;
  }
  return { current, total, percent: total > 0 ? Math.floor((current / total) * 100) : null };
}
