// The studio's device picker against real executor processes on loopback: a device
// executor (--upstream the server, --slowdown 4) is added by URL and becomes the active
// device; a local profile then runs on it and is stored for that device apart from this
// machine's; switching devices answers each one's own profile (the page re-plans with it);
// a device that cannot be reached is refused in one line naming it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { THIS_MACHINE_DEVICE, type DeviceList, type OpenedModel, type StudioEvent, type StudioEventName, type StudioResult } from '../../app/studio/contract.js';
import { startExecutorProcess, type ExecutorProcess } from '../executor/executor-process.js';
import { defaultZooDir } from '../files/paths.js';
import { ensureZooModel } from '../model/zoo-files.js';
import { connectExecutor } from './executor-connector.js';
import { StudioService } from './service.js';

let work: string;
let server: ExecutorProcess;
let device: ExecutorProcess;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'studio-device-'));
  server = await startExecutorProcess(['--max-concurrency', '1']);
  device = await startExecutorProcess(['--max-concurrency', '1', '--upstream', server.url, '--slowdown', '4']);
}, 120_000);

afterAll(async () => {
  await device?.stop();
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

function nextEvent<E extends StudioEventName>(service: StudioService, event: E): Promise<StudioEvent<E>> {
  return new Promise((resolve) => {
    const off = service.on((name: StudioEventName, payload: unknown) => {
      if (name === event) {
        off();
        resolve(payload as StudioEvent<E>);
      }
    });
  });
}

describe('the device picker', () => {
  it('adds a device executor, profiles on it, keeps its profile apart and answers it when chosen', async () => {
    const service = new StudioService({ host: 'web', home: mkdtempSync(path.join(work, 'home-')), connect: connectExecutor, supervisor: null, log: () => undefined });
    try {
      const opened = (await service.handle('model.openPath', { path: ensureZooModel('lenet', defaultZooDir()) })) as OpenedModel;
      const initial = (await service.handle('device.list', {})) as DeviceList;
      expect(initial).toEqual({ activeId: THIS_MACHINE_DEVICE, devices: [expect.objectContaining({ id: THIS_MACHINE_DEVICE, label: 'this machine', url: null })] });

      const added = (await service.handle('device.add', { url: device.url })) as DeviceList;
      expect(added.activeId).toBe(device.url);
      const done = nextEvent(service, 'profile.done');
      await service.handle('profile.start', { modelId: opened.model.id, side: 'local', ep: 'cpu', runs: 3, warmup: 1 });
      const result = await done;
      expect(result.outcome).toBe('done');
      expect(result.profile?.device.hostname).toMatch(/emulated 4× slower/);

      const listed = (await service.handle('device.list', {})) as DeviceList;
      expect(listed.devices.find((d) => d.id === device.url)).toMatchObject({ provider: 'cpu', cpu: expect.any(String) });

      // This machine has no profile of its own yet: choosing it answers none, choosing the device its own.
      const here = (await service.handle('device.select', { id: THIS_MACHINE_DEVICE, modelId: opened.model.id })) as StudioResult<'device.select'>;
      expect(here.profiles?.local).toBeNull();
      const there = (await service.handle('device.select', { id: device.url, modelId: opened.model.id })) as StudioResult<'device.select'>;
      expect(there.profiles?.local?.device.hostname).toMatch(/emulated 4× slower/);
      // A reopened model is answered with the active device's profile.
      const again = (await service.handle('model.openPath', { path: ensureZooModel('lenet', defaultZooDir()) })) as OpenedModel;
      expect(again.profiles.local?.device.hostname).toMatch(/emulated 4× slower/);
    } finally {
      await service.dispose();
    }
  }, 120_000);

  it('refuses a device executor that cannot be reached, in one line naming it', async () => {
    const service = new StudioService({ host: 'web', home: mkdtempSync(path.join(work, 'home-')), connect: connectExecutor, supervisor: null, log: () => undefined });
    try {
      const gone = await startExecutorProcess([]);
      const url = gone.url;
      await gone.stop();
      await expect(service.handle('device.add', { url })).rejects.toThrow(`device executor ${url}: cannot be reached`);
      expect(((await service.handle('device.list', {})) as DeviceList).activeId).toBe(THIS_MACHINE_DEVICE);
    } finally {
      await service.dispose();
    }
  }, 60_000);
});
