// Download tickets: each is long and random, taken once, and refused after it expires.
import { describe, expect, it } from 'vitest';
import { DOWNLOAD_TICKET_TTL_MS, DownloadTickets } from './download-tickets.js';

describe('DownloadTickets', () => {
  it('gives each folder a long random ticket that is spent by its first use and expires', () => {
    let now = 1_000;
    const tickets = new DownloadTickets(() => now);
    const a = tickets.issue('/exports/a');
    const b = tickets.issue('/exports/a');
    expect(a).not.toBe(b);
    expect(a.length).toBeGreaterThanOrEqual(32);
    expect(tickets.take(a)).toBe('/exports/a');
    expect(tickets.take(a)).toBeNull();
    expect(tickets.take('made-up')).toBeNull();
    now += DOWNLOAD_TICKET_TTL_MS + 1;
    expect(tickets.take(b)).toBeNull();
  });
});
