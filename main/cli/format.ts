// Human-readable numbers and tables for the CLI's non-JSON output.
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return '?';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

export function formatCount(count: number | null): string {
  if (count === null) return '?';
  if (count < 1e3) return String(count);
  if (count < 1e6) return `${(count / 1e3).toFixed(1)} K`;
  if (count < 1e9) return `${(count / 1e6).toFixed(2)} M`;
  return `${(count / 1e9).toFixed(3)} G`;
}

export function formatMs(ms: number): string {
  return ms < 10 ? ms.toFixed(3) : ms < 1000 ? ms.toFixed(2) : ms.toFixed(0);
}

/** Left-aligned text columns, right-aligned numeric ones (those named in `numeric`). */
export function table(headers: string[], rows: string[][], numeric: Set<number> = new Set()): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
