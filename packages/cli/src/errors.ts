/**
 * The exit codes of every command, documented in the package README; scripts and CI branch on
 * them, so a code never changes meaning.
 */
export const EXIT = {
  OK: 0,
  /** Anything unexpected (a bug, a file that cannot be written). */
  ERROR: 1,
  /** Bad arguments or options. */
  USAGE: 2,
  /** The job file or request is invalid (offline check or the API's 400). */
  INVALID: 3,
  /** No console address or token, or the token was refused (401/403). */
  AUTH: 4,
  /** The job, version, parameter set or file does not exist (404). */
  NOT_FOUND: 5,
  /** The console refused the action as things stand: a conflict (409) or the budget (402). */
  REFUSED: 6,
  /** The console or its object store could not be reached or failed (network error, 5xx). */
  UNAVAILABLE: 7,
  /** A followed job ended Running failed. */
  JOB_FAILED: 8,
  /** A followed job ended Stopped. */
  JOB_STOPPED: 9,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error meant for the user: its message is printed as is, and it decides the exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}

export function exitCodeForStatus(status: number): ExitCode {
  if (status === 400 || status === 422) return EXIT.INVALID;
  if (status === 401 || status === 403) return EXIT.AUTH;
  if (status === 404) return EXIT.NOT_FOUND;
  if (status === 402 || status === 409) return EXIT.REFUSED;
  if (status >= 500) return EXIT.UNAVAILABLE;
  return EXIT.ERROR;
}
