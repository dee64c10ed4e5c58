// The studio's fleet job through the contract (main/studio/service.ts → main/fleet/): a
// small run reports each point as progress and the report when done; a second start
// while one runs is refused; cancel ends it as 'cancelled'; bad parameters are refused
// by the contract before anything starts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { StudioEvent, StudioEventName, StudioParams } from '../../app/studio/contract.js';
import type { ExecutorConnector } from './executor-link.js';
import { StudioService } from './service.js';

const noExecutor: ExecutorConnector = () => {
  throw new Error('no executor in this test');
};

const home = mkdtempSync(path.join(tmpdir(), 'studio-fleet-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function collect(service: StudioService): { event: StudioEventName; payload: unknown }[] {
  const events: { event: StudioEventName; payload: unknown }[] = [];
  service.on((event, payload) => events.push({ event, payload }));
  return events;
}

function done(service: StudioService): Promise<StudioEvent<'fleet.done'>> {
  return new Promise((resolve) => {
    const off = service.on((event, payload) => {
      if (event === 'fleet.done') {
        off();
        resolve(payload as StudioEvent<'fleet.done'>);
      }
    });
  });
}

const params: StudioParams<'fleet.start'> = {
  clients: 3,
  networkMix: { lte: 1 },
  models: ['lenet', 'senna-pos'],
  policies: ['cloud-only', 'neurosurgeon'],
  rates: [6],
  durationS: 2,
  deviceSlowdown: 20,
  objectiveMs: 1000
};

describe('studio fleet job', () => {
  it('runs, reports every point as progress, and refuses a second run meanwhile', async () => {
    const service = new StudioService({ host: 'web', home, connect: noExecutor, supervisor: null, log: () => undefined });
    const events = collect(service);
    const finished = done(service);
    const { jobId } = (await service.handle('fleet.start', params)) as { jobId: string };
    await expect(service.handle('fleet.start', params)).rejects.toThrow(/already going/);
    const result = await finished;
    expect(result.jobId).toBe(jobId);
    expect(result.outcome).toBe('done');
    expect(result.report?.policies.map((p) => p.policy)).toEqual(['cloud-only', 'neurosurgeon']);
    const points = events.filter((e) => e.event === 'fleet.progress' && (e.payload as StudioEvent<'fleet.progress'>).point);
    expect(points.length).toBe(2);
    await service.dispose();
  }, 120_000);

  it('cancels, and refuses bad parameters through the contract', async () => {
    const service = new StudioService({ host: 'web', home, connect: noExecutor, supervisor: null, log: () => undefined });
    await expect(service.handle('fleet.start', { ...params, clients: 0 })).rejects.toThrow(/fleet.start: bad parameters/);
    await expect(service.handle('fleet.start', { ...params, networkMix: { wimax: 1 } })).rejects.toThrow(/wimax/);
    await expect(service.handle('fleet.start', { ...params, refineSteps: 7 })).rejects.toThrow(/fleet.start: bad parameters/);
    const finished = done(service);
    const { jobId } = (await service.handle('fleet.start', { ...params, durationS: 30 })) as { jobId: string };
    const off = service.on((event, payload) => {
      if (event === 'fleet.progress' && (payload as StudioEvent<'fleet.progress'>).message.includes('queries/s')) {
        off();
        void service.handle('fleet.cancel', { jobId });
      }
    });
    expect((await finished).outcome).toBe('cancelled');
    await service.dispose();
  }, 120_000);
});
