import type { NotificationEvent, ResourceType, RetryPolicy, StallWatchdog } from '@tc/contracts';

/**
 * What the wizard's controls hold. It mirrors the create request field for field, so the
 * request's own validation errors (`data.path`, `env.0.name`, `resources.flavor`) name form
 * fields as they are; the differences are only what a form needs: both data sources kept while
 * the user switches, text where the request has "absent", and the "save parameters" switch.
 */
export interface WizardValues {
  name: string;
  description: string;
  algorithm: { source: 'custom'; imagePath: string; codeDir: string; bootCommand: string };
  data: { source: 'path' | 'dataset'; path: string; datasetId: string; version: string };
  trainOutput: string;
  /** secret: the container gets the value, but no page shows it again once submitted. */
  env: { name: string; value: string; secret?: boolean }[];
  logPath: string;
  /** '' = none. */
  checkpointPath: string;
  /** '' = no limit. */
  maxRuntimeMinutes: number | '';
  /** minutes '' = no watchdog. */
  stallWatchdog: { minutes: number | ''; action: StallWatchdog['action'] };
  resources: { pool: string; type: ResourceType; flavor: string; nodes: number | '' };
  /** Automatic Retry: maxAttempts 0 = none (no `retry` in the request); `on` the failure classes retried. */
  retry: { maxAttempts: number | ''; on: NonNullable<RetryPolicy['on']> };
  /** topic '' = no notification. */
  notification: { topic: string; events: NotificationEvent[] };
  /** Metrics read from the log: a name and a regular expression with one capture group. */
  metrics: { name: string; regex: string }[];
  saveConfig: { enabled: boolean; name: string; description: string };
}

export const EMPTY_VALUES: WizardValues = {
  name: '',
  description: '',
  algorithm: { source: 'custom', imagePath: '', codeDir: '', bootCommand: '' },
  data: { source: 'path', path: '', datasetId: '', version: '' },
  trainOutput: '',
  env: [],
  logPath: '',
  checkpointPath: '',
  maxRuntimeMinutes: '',
  stallWatchdog: { minutes: '', action: 'alert' },
  resources: { pool: '', type: 'CPU', flavor: '', nodes: 1 },
  retry: { maxAttempts: 0, on: ['platform'] },
  notification: { topic: '', events: [] },
  metrics: [],
  saveConfig: { enabled: false, name: '', description: '' },
};
