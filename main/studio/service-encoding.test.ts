// The studio's `encoding.measure` call (app/studio/contract.ts) on LeNet: measurements per
// (cut, encoding) that pass the contract's schema, JPEG tried on the image input at cut 0, and
// a cut past the model or an unknown encoding refused in one line. `partition.export` with an
// encoding writes it into head, tail and partition.json as `export --encoding` does, and
// refuses one the cut cannot carry (on the real text classifier: int8 of its int64 token ids).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { studioRequests, type OpenedModel, type StudioResult } from '../../app/studio/contract.js';
import { defaultZooDir } from '../files/paths.js';
import { ensureZooModel } from '../model/zoo-files.js';
import { connectExecutor } from './executor-connector.js';
import { StudioService } from './service.js';
import { NETWORK_PRESETS } from '../../app/partition/presets.js';
import { realModelsDir } from '../model/real-models.js';
import { partitionSchemaProblem } from '../split/export.js';

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

describe('partition.export with an encoding', () => {
  const lte = NETWORK_PRESETS.lte.network;
  const textClassifier = path.join(realModelsDir(), 'text_classifier.onnx');

  it('writes int8 into head, tail and partition.json, and refuses what the cut cannot carry', async () => {
    const service = new StudioService({ host: 'web', home, connect: connectExecutor, supervisor: null, log: () => undefined });
    const opened = (await service.handle('model.openPath', { path: ensureZooModel('lenet', defaultZooDir()) })) as OpenedModel;
    const modelId = opened.model.id;
    const params = { modelId, cut: 3, network: lte, serverLoad: 1, objective: 'latency' as const, encoding: 'int8' };
    expect(studioRequests['partition.export'].params.safeParse(params).success).toBe(true);
    const exported = (await service.handle('partition.export', params)) as StudioResult<'partition.export'>;
    const config = JSON.parse(readFileSync(path.join(exported.dir, 'partition.json'), 'utf8')) as { crossing: { name: string; direction: string; wire?: { name: string; datatype: string; scale?: number } }[] };
    expect(partitionSchemaProblem(config)).toBeNull();
    const up = config.crossing.filter((c) => c.direction === 'up');
    expect(up).toHaveLength(1);
    expect(up[0].wire).toMatchObject({ name: `${up[0].name}__int8`, datatype: 'INT8' });
    expect(up[0].wire?.scale).toBeGreaterThan(0);
    expect(readFileSync(path.join(exported.dir, 'repository', 'lenet-tail', 'config.pbtxt'), 'utf8')).toMatch(/TYPE_INT8/);

    await expect(service.handle('partition.export', { ...params, encoding: 'int3' })).rejects.toThrow(/unknown encoding "int3"/);
    await expect(service.handle('partition.export', { ...params, encoding: 'uint8', name: 'uint8-cut-3' })).rejects.toMatchObject({
      name: 'ExportError',
      message: expect.stringMatching(/^uint8 does not apply to tensor "[^"]+": it is not a model input/)
    });
    await service.dispose();
  }, 120_000);

  it.skipIf(!existsSync(textClassifier))('refuses int8 of the real text classifier\'s int64 token ids at cut 0, naming the tensor', async () => {
    const service = new StudioService({ host: 'web', home, connect: connectExecutor, supervisor: null, log: () => undefined });
    const opened = (await service.handle('model.openPath', { path: textClassifier })) as OpenedModel;
    await expect(service.handle('partition.export', { modelId: opened.model.id, cut: 0, network: lte, serverLoad: 1, objective: 'latency', encoding: 'int8' })).rejects.toMatchObject({
      name: 'ExportError',
      message: 'int8 does not apply to tensor "input": it is int64, sent as it is (only float32 tensors are re-encoded)'
    });
    await service.dispose();
  }, 120_000);
});
