// The views' number formatting: units switch at the right sizes and unknowns read as such.
import { describe, expect, it } from 'vitest';
import { formatBytes, formatBytesTick, formatCount, formatCountTick, formatElementType, formatMs, formatMsRange, formatShape } from './format.js';

describe('formatBytes', () => {
  it('uses binary units with at most three significant digits', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(774_400)).toBe('756 KiB');
    expect(formatBytes(3 * 1024 * 1024)).toBe('3 MiB');
    expect(formatBytes(244_403_360)).toBe('233 MiB');
    expect(formatBytes(null)).toBe('—');
  });

  it('writes compact ticks', () => {
    expect(formatBytesTick(512)).toBe('512B');
    expect(formatBytesTick(1536)).toBe('1.5K');
    expect(formatBytesTick(1024 * 1024)).toBe('1M');
  });
});

describe('formatCount', () => {
  it('uses SI prefixes', () => {
    expect(formatCount(999)).toBe('999');
    expect(formatCount(61_100_840)).toBe('61.1 M');
    expect(formatCount(714_188_480)).toBe('714 M');
    expect(formatCount(15_470_264_320)).toBe('15.5 G');
    expect(formatCount(null)).toBe('—');
    expect(formatCountTick(2_500_000)).toBe('2.5M');
    expect(formatCountTick(0)).toBe('0');
  });
});

describe('formatMs', () => {
  it('keeps precision proportional to size', () => {
    expect(formatMs(0.04213)).toBe('0.042 ms');
    expect(formatMs(3.14159)).toBe('3.14 ms');
    expect(formatMs(15.25)).toBe('15.3 ms');
    expect(formatMs(152.4)).toBe('152 ms');
    expect(formatMs(2310)).toBe('2.31 s');
    expect(formatMs(null)).toBe('—');
  });

  it('writes a range with one unit when both ends share it', () => {
    expect(formatMsRange(8.25, 10.31)).toBe('8.25–10.3 ms');
    expect(formatMsRange(950, 1200)).toBe('950 ms–1.20 s');
    expect(formatMsRange(null, 2)).toBe('—–2.00 ms');
  });
});

describe('formatShape', () => {
  it('joins dims with × and marks unknowns', () => {
    expect(formatShape([1, 64, 55, 55])).toBe('1×64×55×55');
    expect(formatShape(['batch', 128, null])).toBe('batch×128×?');
    expect(formatShape([])).toBe('scalar');
    expect(formatShape(null)).toBe('?');
  });

  it('marks unknown element types', () => {
    expect(formatElementType('float32')).toBe('float32');
    expect(formatElementType('undefined')).toBe('?');
    expect(formatElementType(null)).toBe('?');
  });
});
