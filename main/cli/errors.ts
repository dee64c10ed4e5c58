// How the CLI reports failure: one line on stderr naming the problem (main/errors/), exit
// code 2, and a stack trace only with --debug.
import { describeError } from '../errors/user-errors.js';

export function reportAndExit(error: unknown, debug: boolean): never {
  process.stderr.write(`neurosurgeon: ${describeError(error)}\n`);
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  process.exit(2);
}
