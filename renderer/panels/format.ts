// The few formats only the shell needs (bandwidth, "3 min ago"); bytes, counts and
// milliseconds come from renderer/format.ts, shared with the views.
export function formatMbps(mbps: number): string {
  if (mbps >= 1000) return `${(mbps / 1000).toFixed(1)} Gbps`;
  return `${mbps < 100 ? Number(mbps.toPrecision(3)) : Math.round(mbps)} Mbps`;
}

/** "3 min ago", "yesterday", or the date, for the recent-files menu. */
export function formatWhen(iso: string, now: Date): string {
  const then = new Date(iso);
  const seconds = (now.getTime() - then.getTime()) / 1000;
  if (!Number.isFinite(seconds)) return '';
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  if (seconds < 2 * 86400) return 'yesterday';
  return then.toISOString().slice(0, 10);
}

/** A whole number typed in a field, when it is one within min..max; null otherwise ("", "2.5", "1e3", out of range). */
export function parseWholeNumber(text: string, min: number, max: number): number | null {
  if (!/^\s*-?\d+\s*$/.test(text)) return null;
  const value = Number(text);
  return Number.isSafeInteger(value) && value >= min && value <= max ? value : null;
}
