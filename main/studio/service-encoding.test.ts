// The studio's `encoding.measure` call (app/studio/contract.ts) on LeNet: measurements per
// (cut, encoding) that pass the contract's schema, JPEG tried on the image input at cut 0, and
// a cut past the model or an unknown encoding refused in one line.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { studioRequests, type OpenedModel, type StudioResult } from '../../app/studio/contract.js';
import { defaultZooDir } from '../files/paths.js';
import { ensureZooModel } from '../model/zoo-files.js';
import { connectExecutor } from './executor-connector.js';
import { StudioService } from './service.js';

const home = mkdtempSync(path.join(tmpdir(), 'studio-encoding-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('encoding.measure', () => {
  it('measures each encoding at the asked cuts, typed by the contract', async () => {
    const service = new StudioService({ host: 'web', home, connect: connectExecutor, supervisor: null, log: () => undefined });
    const opened = (await service.handle('model.openPath', { path: ensureZooModel('lenet', defaultZooDir()) })) as OpenedModel;
    const result = (await service.handle('encoding.measure', { modelId: opened.model.id, cuts: [0, 3], encodings: 'auto', samples: 4 })) as StudioResult<'encoding.measure'>;
    expect(studioRequests['encoding.measure'].result.safeParse(result).success).toBe(true);
    expect(result.samples).toBe(4);
    const at0 = result.measurements.filter((m) => m.cut === 0).map((m) => m.encoding);
    expect(at0).toEqual(expect.arrayContaining(['fp32', 'int8', 'uint8', 'jpeg']));
    const int8 = result.measurements.find((m) => m.cut === 3 && m.encoding === 'int8');
    const fp32 = result.measurements.find((m) => m.cut === 3 && m.encoding === 'fp32');
    expect(int8!.uploadBytes * 4).toBeCloseTo(fp32!.uploadBytes);
    expect(int8!.agreement).not.toBeNull();

    await expect(service.handle('encoding.measure', { modelId: opened.model.id, cuts: [999], encodings: 'auto', samples: 2 })).rejects.toThrow(/cut 999 is past/);
    await expect(service.handle('encoding.measure', { modelId: opened.model.id, cuts: [1], encodings: ['int2'], samples: 2 })).rejects.toThrow(/unknown encoding "int2"/);
  }, 120_000);
});
