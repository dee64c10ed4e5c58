// The shell's own formats: bandwidth, "how long ago", and whole numbers typed in fields.
import { describe, expect, it } from 'vitest';
import { formatMbps, formatWhen, parseWholeNumber } from './format.js';

describe('formatMbps', () => {
  it('uses Mbps below a gigabit and Gbps above', () => {
    expect(formatMbps(5.85)).toBe('5.85 Mbps');
    expect(formatMbps(1.1)).toBe('1.1 Mbps');
    expect(formatMbps(18.88)).toBe('18.9 Mbps');
    expect(formatMbps(940.4)).toBe('940 Mbps');
    expect(formatMbps(2350)).toBe('2.4 Gbps');
  });
});

describe('formatWhen', () => {
  const now = new Date('2025-06-02T12:00:00Z');
  it('says how long ago, then the date', () => {
    expect(formatWhen('2025-06-02T11:59:30Z', now)).toBe('just now');
    expect(formatWhen('2025-06-02T11:45:00Z', now)).toBe('15 min ago');
    expect(formatWhen('2025-06-02T07:00:00Z', now)).toBe('5 h ago');
    expect(formatWhen('2025-06-01T08:00:00Z', now)).toBe('yesterday');
    expect(formatWhen('2025-05-20T08:00:00Z', now)).toBe('2025-05-20');
    expect(formatWhen('not a date', now)).toBe('');
  });
});

describe('parseWholeNumber', () => {
  it('takes whole numbers within the range and nothing else, so a field can be emptied and retyped', () => {
    expect(parseWholeNumber('25', 1, 1000)).toBe(25);
    expect(parseWholeNumber(' 7 ', 1, 1000)).toBe(7);
    expect(parseWholeNumber('', 1, 1000)).toBeNull();
    expect(parseWholeNumber('0', 1, 1000)).toBeNull();
    expect(parseWholeNumber('1001', 1, 1000)).toBeNull();
    expect(parseWholeNumber('2.5', 1, 1000)).toBeNull();
    expect(parseWholeNumber('1e3', 1, 1000)).toBeNull();
    expect(parseWholeNumber('-', 1, 1000)).toBeNull();
  });
});
