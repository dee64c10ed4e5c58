// The fleet's load probe (server-probe.ts) against a stand-in for a server without the
// studio extension (as Triton): K from the standard statistics' queue and compute times,
// the mean queue wait between two readings, and this process's own CPU from /proc.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoadProbe, meanQueueWaitMs, processCpuSeconds } from './server-probe.js';

let server: http.Server;
let url: string;
let completed = 0;
const studioAsked: string[] = [];

beforeAll(async () => {
  server = http.createServer((request, response) => {
    if (request.url === '/v2/models/stats') {
      // Every reading, 10 more requests finished: each queued 30 ms and computed 10 ms (K = 4).
      completed += 10;
      const stat = (ms: number) => ({ count: completed, ns: completed * ms * 1e6 });
      response.end(JSON.stringify({ model_stats: [{ name: 'm', version: '1', inference_stats: { queue: stat(30), compute_infer: stat(10) } }] }));
      return;
    }
    studioAsked.push(request.url ?? '');
    response.statusCode = 400;
    response.end(JSON.stringify({ error: 'Not found' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('load probe', () => {
  it('reads K and queue waits from the standard statistics where the studio extension is missing', async () => {
    const probe = new LoadProbe(url, undefined, 20, 1000);
    const before = await probe.read();
    probe.start();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const k = probe.loadFactor;
    probe.stop();
    expect(k).toBeCloseTo(4);
    expect(meanQueueWaitMs(before, await probe.read())).toBeCloseTo(30);
    // Asked once, then not again.
    expect(studioAsked).toEqual(['/v2/studio/load']);
    // The stand-in's statistics move on every reading: never idle.
    expect(await probe.waitIdle(300)).toBe(false);
  });

  it('reads a process CPU time from /proc, null for no such process', () => {
    expect(processCpuSeconds(process.pid)).toBeGreaterThanOrEqual(0);
    expect(processCpuSeconds(2 ** 30)).toBeNull();
  });
});
