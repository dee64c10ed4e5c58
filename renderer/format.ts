// Human-readable numbers for the studio's views (graph edge labels, chart axes and
// tooltips, node details). Pure functions; the CLI's own formatting lives in main/cli/format.ts
// and uses the same units (binary KiB/MiB for bytes, SI K/M/G for counts).
import type { Dim } from '../app/onnx/model.js';

const BYTE_UNITS = ['KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 → "1.50 KiB"; null (unknown size) → "—". */
export function formatBytes(bytes: number | null): string {
  if (bytes === null || !Number.isFinite(bytes)) return '—';
  if (Math.abs(bytes) < 1024) return `${bytes} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${trimNumber(value)} ${BYTE_UNITS[unit]}`;
}

/** Short axis ticks: 1536 → "1.5K", 3 MiB → "3M" (binary, like formatBytes). */
export function formatBytesTick(bytes: number): string {
  if (!Number.isFinite(bytes)) return '';
  if (Math.abs(bytes) < 1024) return `${Math.round(bytes)}B`;
  const letters = ['K', 'M', 'G', 'T'];
  let value = bytes / 1024;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < letters.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number(value.toPrecision(3))}${letters[unit]}`;
}

/** 61_100_840 → "61.1 M"; below a thousand the number itself; null → "—". */
export function formatCount(count: number | null): string {
  if (count === null || !Number.isFinite(count)) return '—';
  const magnitude = Math.abs(count);
  if (magnitude < 1e3) return String(count);
  if (magnitude < 1e6) return `${trimNumber(count / 1e3)} K`;
  if (magnitude < 1e9) return `${trimNumber(count / 1e6)} M`;
  if (magnitude < 1e12) return `${trimNumber(count / 1e9)} G`;
  return `${trimNumber(count / 1e12)} T`;
}

/** Compact axis ticks for counts: 2_500_000 → "2.5M". */
export function formatCountTick(count: number): string {
  if (!Number.isFinite(count)) return '';
  const magnitude = Math.abs(count);
  if (magnitude < 1e3) return String(Number(count.toPrecision(3)));
  const [divisor, letter] = magnitude < 1e6 ? [1e3, 'K'] : magnitude < 1e9 ? [1e6, 'M'] : magnitude < 1e12 ? [1e9, 'G'] : [1e12, 'T'];
  return `${Number((count / divisor).toPrecision(3))}${letter}`;
}

/** Milliseconds with precision that suits their size: "0.042 ms", "3.14 ms", "152 ms", "2.31 s". */
export function formatMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  const magnitude = Math.abs(ms);
  if (magnitude >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (magnitude >= 100) return `${ms.toFixed(0)} ms`;
  if (magnitude >= 10) return `${ms.toFixed(1)} ms`;
  if (magnitude >= 1) return `${ms.toFixed(2)} ms`;
  return `${ms.toFixed(3)} ms`;
}

/** A range of times with the unit once when both ends share it: "8.25–10.3 ms". */
export function formatMsRange(low: number | null, high: number | null): string {
  const [a, b] = [formatMs(low), formatMs(high)];
  const unit = (text: string) => text.slice(text.lastIndexOf(' ') + 1);
  if (a === '—' || b === '—' || unit(a) !== unit(b)) return `${a}–${b}`;
  return `${a.slice(0, a.lastIndexOf(' '))}–${b}`;
}

/** An element type name, with "?" where the type is not known (null or ONNX's 'undefined'). */
export function formatElementType(elementType: string | null): string {
  return elementType === null || elementType === 'undefined' ? '?' : elementType;
}

/** A tensor shape the way edge labels show it: [1,64,55,55] → "1×64×55×55"; [] → "scalar"; unknown rank → "?". */
export function formatShape(shape: readonly Dim[] | null): string {
  if (shape === null) return '?';
  if (shape.length === 0) return 'scalar';
  return shape.map((dim) => (dim === null ? '?' : String(dim))).join('×');
}

/** Three significant digits at most, without trailing zeros: 61.10 → "61.1", 2.000 → "2". */
function trimNumber(value: number): string {
  const magnitude = Math.abs(value);
  const digits = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : 2;
  return String(Number(value.toFixed(digits)));
}
