// Reading a JSON document a user points at (profiles, device and power profiles,
// partition.json): a regular file only, of a bounded size (regular-file.ts), and every
// failure one line naming the file, as the caller's own error type. A syntax error says
// where it is, never what the file holds (V8's own message quotes the text it choked on,
// which for a file that is not JSON is whatever secret it holds).
import { readRegularTextFile } from './regular-file.js';

/** JSON documents the tools read are small; anything past this is not one of them. */
export const MAX_JSON_FILE_BYTES = 256 << 20;

/** Where a JSON syntax error is, without a byte of the text: "at line 3, column 7", "it ends early". */
export function jsonSyntaxProblem(error: unknown, text: string): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/Unexpected end of JSON input/i.test(message)) return text.trim() === '' ? 'the file is empty' : 'it ends early';
  const position = /at position (\d+)/.exec(message);
  if (position) {
    const before = text.slice(0, Number(position[1]));
    const line = before.split('\n').length;
    const column = before.length - before.lastIndexOf('\n');
    return `a syntax error at line ${line}, column ${column}`;
  }
  return 'a syntax error';
}

/** Parses JSON text read from `label`; a syntax error becomes "LABEL: not JSON (…)" without quoting the text. */
export function parseJsonText(text: string, label: string, makeError: (message: string) => Error): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw makeError(`${label}: not JSON (${jsonSyntaxProblem(error, text)})`);
  }
}

export async function readJsonFile(filePath: string, makeError: (message: string) => Error, options: { maxBytes?: number } = {}): Promise<unknown> {
  const text = await readRegularTextFile(filePath, { maxBytes: options.maxBytes ?? MAX_JSON_FILE_BYTES, what: 'a JSON document', makeError });
  return parseJsonText(text, filePath, makeError);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
