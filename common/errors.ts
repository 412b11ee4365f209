/**
 * A mistake in what the user gave us (a flag, a file, a sweep). The CLI prints its message as one
 * line and exits with code 2; anything else is a bug and keeps its stack trace.
 */
export class InputError extends Error {
  override readonly name = 'InputError';
}

/** The exit code for bad input (docs/cli.md); Kubernetes Jobs fail fast on it instead of retrying. */
export const BAD_INPUT_EXIT_CODE = 2;

/** The exit status after Ctrl-C, as shells report a SIGINT death. */
export const INTERRUPTED_EXIT_CODE = 130;

/**
 * A service the command needs (the database, NATS) cannot be reached: not the user's mistake, and
 * worth retrying later. The CLI prints its message as one line and exits with its own code.
 */
export class ServiceUnavailableError extends Error {
  override readonly name = 'ServiceUnavailableError';
}

/** The exit code for an unreachable service: sysexits' EX_UNAVAILABLE. */
export const SERVICE_UNAVAILABLE_EXIT_CODE = 69;
