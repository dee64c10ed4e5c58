// Admission (slots and the bounded queue) and the load figures on their own: the pure
// server-load factor K for hand-made histories, and AdmissionGate's order, refusals,
// aborts and overlap marks. K under real concurrent load is tested against a real
// executor process in client.test.ts.
import { describe, expect, it } from 'vitest';
import { AdmissionAbortedError, AdmissionGate, LoadStats, percentiles, QueueFullError, serverLoadFactor, type CompletedRun } from './load-stats.js';

const run = (model: string, queueMs: number, computeMs: number, alone: boolean, endedAt: number): CompletedRun => ({ model, queueMs, computeMs, alone, endedAt });

describe('serverLoadFactor (K)', () => {
  const now = 100_000;

  it('is 1 on an idle server, whatever the history says', () => {
    const history = [run('a', 500, 200, false, now - 10)];
    expect(serverLoadFactor({ history, now, inFlight: 0, queued: 0, maxConcurrency: 2 })).toBe(1);
  });

  it('is the median slowdown of recent runs against the same model running alone', () => {
    const history = [
      run('a', 0, 10, true, now - 60_000),
      run('a', 0, 10, true, now - 50_000),
      run('b', 0, 100, true, now - 40_000),
      run('a', 20, 10, false, now - 300), // 3×
      run('b', 100, 200, false, now - 200), // 3×
      run('a', 30, 20, false, now - 100) // 5×
    ];
    expect(serverLoadFactor({ history, now, inFlight: 1, queued: 0, maxConcurrency: 2 })).toBeCloseTo(3, 10);
  });

  it('leaves out runs older than the window, and falls back to the fastest run when none ran alone', () => {
    const history = [run('a', 0, 40, false, now - 20_000), run('a', 0, 20, false, now - 10_000), run('a', 20, 20, false, now - 10)];
    expect(serverLoadFactor({ history, now, inFlight: 1, queued: 0, maxConcurrency: 1 })).toBeCloseTo(2, 10);
    expect(serverLoadFactor({ history, now, inFlight: 1, queued: 0, maxConcurrency: 1, windowMs: 60_000 })).toBeCloseTo(2, 10);
  });

  it('counts the queue a new request would wait behind, before any run completes', () => {
    expect(serverLoadFactor({ history: [], now, inFlight: 2, queued: 6, maxConcurrency: 2 })).toBe(4);
    expect(serverLoadFactor({ history: [], now, inFlight: 2, queued: 0, maxConcurrency: 2 })).toBe(1);
  });

  it('is never below 1 (a run faster than its baseline does not make the server "faster than idle")', () => {
    const history = [run('a', 0, 10, true, now - 5000), run('a', 0, 5, false, now - 10)];
    expect(serverLoadFactor({ history, now, inFlight: 1, queued: 0, maxConcurrency: 2 })).toBe(1);
  });
});

describe('percentiles', () => {
  it('uses the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentiles(values)).toEqual({ p50: 50, p90: 90, p99: 99, count: 100 });
    expect(percentiles([])).toEqual({ p50: null, p90: null, p99: null, count: 0 });
  });
});

describe('AdmissionGate', () => {
  it('grants up to maxConcurrency slots, queues up to maxQueue in order, refuses beyond', async () => {
    const gate = new AdmissionGate(2, 2);
    const first = await gate.acquire();
    const second = await gate.acquire();
    expect(new Set([first.index, second.index])).toEqual(new Set([0, 1]));
    expect(second.overlapped).toBe(true);
    expect(first.overlapped).toBe(true);
    const order: string[] = [];
    const third = gate.acquire().then((slot) => (order.push('third'), slot));
    const fourth = gate.acquire().then((slot) => (order.push('fourth'), slot));
    await expect(gate.acquire()).rejects.toBeInstanceOf(QueueFullError);
    expect(gate.rejected).toBe(1);
    expect([gate.inFlight, gate.queued]).toEqual([2, 2]);
    first.release();
    first.release();
    const thirdSlot = await third;
    expect(thirdSlot.index).toBe(first.index);
    second.release();
    await fourth;
    expect(order).toEqual(['third', 'fourth']);
    expect([gate.inFlight, gate.queued]).toEqual([2, 0]);
  });

  it('marks a run that had the executor to itself as not overlapped', async () => {
    const gate = new AdmissionGate(2, 0);
    const alone = await gate.acquire();
    alone.release();
    expect(alone.overlapped).toBe(false);
  });

  it('lets a waiting request give up, and then gives the slot to the next', async () => {
    const gate = new AdmissionGate(1, 2);
    const held = await gate.acquire();
    const controller = new AbortController();
    const gaveUp = gate.acquire(controller.signal);
    const next = gate.acquire();
    controller.abort();
    await expect(gaveUp).rejects.toBeInstanceOf(AdmissionAbortedError);
    expect(gate.queued).toBe(1);
    held.release();
    expect((await next).index).toBe(held.index);
  });

  it('feeds LoadStats: inFlight, queued and K come from the gate', async () => {
    const gate = new AdmissionGate(1, 4);
    const stats = new LoadStats(gate);
    const held = await gate.acquire();
    const waiting = [gate.acquire(), gate.acquire()];
    const snapshot = stats.snapshot(3);
    expect(snapshot).toMatchObject({ inFlight: 1, queued: 2, maxConcurrency: 1, maxQueue: 4, sessionsCreated: 3, loadFactor: 3 });
    held.release();
    for (const slot of await Promise.all(waiting.map((w) => w.then((s) => (s.release(), s))))) expect(slot.index).toBe(0);
    stats.record({ model: 'a', queueMs: 0, computeMs: 5, alone: true });
    expect(stats.snapshot(3)).toMatchObject({ inFlight: 0, queued: 0, completed: 1, loadFactor: 1, computeMs: { p50: 5, count: 1 } });
  });
});
