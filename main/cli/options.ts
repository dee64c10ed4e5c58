// Parsers for command-line values shared by the CLI's command modules (cli.ts, cli-run.ts,
// …): each turns a bad value into a UsageError naming the option, and printing helpers.
import { UsageError } from '../errors/user-errors.js';

export function parseDims(values: string[] | undefined): Record<string, number> {
  const dims: Record<string, number> = {};
  for (const value of values ?? []) {
    const match = /^([^=]+)=(\d+)$/.exec(value);
    if (!match) throw new UsageError(`--dim expects NAME=SIZE (e.g. batch=1), got "${value}"`);
    dims[match[1]] = Number(match[2]);
  }
  return dims;
}

export function positiveNumber(name: string) {
  return (value: string): number => {
    const number = Number(value);
    if (!Number.isFinite(number) || number <= 0) throw new UsageError(`${name} must be a positive number, got "${value}"`);
    return number;
  };
}

export function positiveInteger(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${name} must be a whole number ≥ 1, got "${value}"`);
    return Number(value);
  };
}

export function nonNegativeInteger(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new UsageError(`${name} must be a whole number ≥ 0, got "${value}"`);
    return Number(value);
  };
}

export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}
