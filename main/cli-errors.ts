// How the CLI reports failure: one line on stderr naming the problem, exit code 2, and a
// stack trace only with --debug. Errors a user can cause are "expected" and print as
// they are; anything else is labelled as an internal error.
export class UsageError extends Error {
  override name = 'UsageError';
}

const expectedErrorNames = new Set([
  'UsageError',
  'ExportError',
  'PartitionConfigError',
  'BandwidthTraceError',
  'ModelFileError',
  'OnnxFormatError',
  'SurgeryError',
  'InputSpecError',
  'RuntimeShapeError',
  'PartitionError',
  'PartitionProblemError',
  'ZooError',
  'UnknownPresetError',
  'PowerProfileError',
  'LatencySourceError',
  'ProfileError',
  'ProfileCancelledError',
  'ProviderError',
  'InputFileError',
  'TraceFormatError',
  'ProfileMixError',
  'DeviceProfileError',
  'CharacterizeCancelledError',
  'CharacterizeError',
  'ContractError',
  'WireError',
  'ExecutorUnavailableError',
  'ExecutorConnectError',
  'ExecutorStartError',
  'WebHostError',
  'SplitRunError',
  'SplitPredictionError',
  'TensorConversionError',
  'ExecutorError'
]);

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const line = error.message.split('\n')[0].trim();
    return expectedErrorNames.has(error.name) ? line : `internal error: ${line}`;
  }
  return `internal error: ${String(error)}`;
}

export function reportAndExit(error: unknown, debug: boolean): never {
  process.stderr.write(`neurosurgeon: ${describeError(error)}\n`);
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  process.exit(2);
}
