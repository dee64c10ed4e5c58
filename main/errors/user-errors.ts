// main/errors/ — the lowest room: the error types every other room reports through.
//
// The errors a user can cause, and how every room of main/ turns a failure into one line:
// UsageError for bad requests, the names of the other expected error types (each room
// declares its own class; they print as they are), and anything else labelled an internal
// error. The CLI prints these lines (main/cli/errors.ts); the studio sends them to the page.
export class UsageError extends Error {
  override name = 'UsageError';
}

const expectedErrorNames = new Set([
  'UsageError',
  'GraphStructureError',
  'QuantizationError',
  'QuantizeError',
  'QuantizedModelError',
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

/** The first line of an error's message, trimmed. */
export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0].trim();
}

/** One line for a user: an expected error as it is, anything else as an internal error. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const line = error.message.split('\n')[0].trim();
    return expectedErrorNames.has(error.name) ? line : `internal error: ${line}`;
  }
  return `internal error: ${String(error)}`;
}
