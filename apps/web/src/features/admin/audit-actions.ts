import type { AuditEntry } from '@tc/contracts';

/**
 * What an audit entry's request did, in words: the server records the route
 * (`POST /api/v1/training-jobs/:name/versions/:version/stop`) and the path it was called with;
 * this reads the parameters back out of the path. A route not listed here keeps its own text.
 */
const ACTIONS: { method: string; route: string; say: (p: Record<string, string>, e: AuditEntry) => string }[] = [
  { method: 'POST', route: '/auth/setup', say: (_, e) => `Set up the console${whose(e)}` },
  { method: 'POST', route: '/auth/sign-in', say: (_, e) => (e.status < 400 ? 'Signed in' : `Failed to sign in${whose(e)}`) },
  { method: 'POST', route: '/auth/sign-out', say: () => 'Signed out' },
  { method: 'POST', route: '/auth/password', say: () => 'Changed own password' },
  { method: 'POST', route: '/auth/tokens', say: (_, e) => `Created API token${named(e)}` },
  { method: 'DELETE', route: '/auth/tokens/:id', say: (p) => `Revoked API token ${p.id}` },
  { method: 'POST', route: '/users', say: (_, e) => `Created user${whose(e)}` },
  { method: 'DELETE', route: '/users/:username', say: (p) => `Deleted user ${p.username}` },
  { method: 'POST', route: '/datasets', say: (_, e) => `Created dataset${named(e)}` },
  { method: 'DELETE', route: '/datasets/:name', say: (p) => `Deleted dataset ${p.name}` },
  { method: 'POST', route: '/datasets/:name/versions', say: (p) => `Published a version of dataset ${p.name}` },
  { method: 'POST', route: '/images/check', say: () => 'Checked an image' },
  { method: 'POST', route: '/images/pull', say: () => 'Pulled an image' },
  { method: 'POST', route: '/images/load', say: () => 'Uploaded an image archive' },
  { method: 'POST', route: '/notification-topics', say: (_, e) => `Created notification topic${named(e)}` },
  { method: 'PUT', route: '/notification-topics/:name', say: (p) => `Updated notification topic ${p.name}` },
  { method: 'DELETE', route: '/notification-topics/:name', say: (p) => `Deleted notification topic ${p.name}` },
  { method: 'POST', route: '/notification-topics/:name/secret', say: (p) => `Renewed the secret of notification topic ${p.name}` },
  { method: 'POST', route: '/notification-topics/:name/subscriptions', say: (p) => `Subscribed to notification topic ${p.name}` },
  {
    method: 'DELETE',
    route: '/notification-topics/:name/subscriptions/:id',
    say: (p) => `Removed subscription ${p.id} of notification topic ${p.name}`,
  },
  { method: 'POST', route: '/storage/buckets/:bucket/folders', say: (p) => `Created a folder in bucket ${p.bucket}` },
  { method: 'POST', route: '/training-job-configs', say: (_, e) => `Saved job parameters${named(e)}` },
  { method: 'PUT', route: '/training-job-configs/:name', say: (p) => `Updated job parameters ${p.name}` },
  { method: 'DELETE', route: '/training-job-configs/:name', say: (p) => `Deleted job parameters ${p.name}` },
  { method: 'POST', route: '/training-job-configs/:name/jobs', say: (p) => `Created a job from job parameters ${p.name}` },
  { method: 'POST', route: '/training-jobs', say: (_, e) => `Created job${named(e)}` },
  { method: 'POST', route: '/training-jobs/:name/versions/:version/stop', say: (p) => `Stopped job ${p.name} ${p.version}` },
  { method: 'DELETE', route: '/training-jobs/:name/versions/:version', say: (p) => `Deleted job ${p.name} ${p.version}` },
];

/** `(name x)` / `(user x)`, as the server appends them to the target. */
const named = (e: AuditEntry) => {
  const m = / \(name ([^)]*)\)/.exec(e.target);
  return m ? ` ${m[1]}` : '';
};
const whose = (e: AuditEntry) => {
  const m = / \(user ([^)]*)\)/.exec(e.target);
  return m ? ` ${m[1]}` : '';
};

function match(route: string, path: string): Record<string, string> | null {
  const want = route.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (w.startsWith(':')) {
      try {
        params[w.slice(1)] = decodeURIComponent(g);
      } catch {
        params[w.slice(1)] = g;
      }
    } else if (w !== g) return null;
  }
  return params;
}

export function describeAction(e: AuditEntry): string | null {
  const [method = '', ...rest] = e.action.split(' ');
  const route = rest.join(' ').replace(/^\/api\/v1/, '');
  const path = (e.target.split(' ')[0] ?? '').replace(/^\/api\/v1/, '');
  const known = ACTIONS.find((a) => a.method === method && a.route === route);
  const params = known ? match(route, path) : null;
  return known && params ? known.say(params, e) : null;
}
