// Reading a JSON document a user points at (profiles, device and power profiles): every
// failure becomes one line naming the file, as the caller's own error type.
import { readFile } from 'node:fs/promises';
import { firstLine } from '../errors/user-errors.js';

export async function readJsonFile(filePath: string, makeError: (message: string) => Error): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(filePath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw makeError(code === 'ENOENT' ? `${filePath}: no such file` : `${filePath}: cannot read (${code ?? String(error)})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw makeError(`${filePath}: not JSON (${firstLine(error)})`);
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
