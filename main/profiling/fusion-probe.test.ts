// Kernel detection on the installed onnxruntime: a pattern the CPU provider fuses (Conv →
// Relu) is found fused at 'all' and not at 'disabled'; one it leaves apart (HardSigmoid →
// Mul) is not; and the committed rules (resources/fusion-rules.json) were found on the
// runtime installed here and agree with a fresh probe of those patterns.
import { describe, expect, it } from 'vitest';
import { FUSION_PATTERNS } from '../../app/prediction/fusion.js';
import { probePattern, readFusionRules, runtimeVersion } from './fusion-probe.js';

const pattern = (id: string) => {
  const found = FUSION_PATTERNS.find((p) => p.id === id);
  if (!found) throw new Error(`no pattern ${id}`);
  return found;
};

describe('fusion probe', () => {
  it('finds Conv → Relu fused into one kernel at all, apart at disabled', async () => {
    const all = await probePattern(pattern('conv+relu'), 'all');
    expect(all.fused).toBe(true);
    expect(all.kernels.filter((k) => k === 'Relu')).toEqual([]);
    const disabled = await probePattern(pattern('conv+relu'), 'disabled');
    expect(disabled).toMatchObject({ fused: false, kernels: ['Conv', 'Relu'] });
  });

  it('finds a decomposed LayerNorm run as one kernel, HardSigmoid → Mul left apart', async () => {
    expect(await probePattern(pattern('layernorm'), 'all')).toMatchObject({ fused: true, kernels: ['LayerNormalization'] });
    expect((await probePattern(pattern('hardsigmoid+mul'), 'all')).fused).toBe(false);
  });

  it('has committed rules for the installed runtime that a fresh probe agrees with', async () => {
    const rules = await readFusionRules();
    expect(rules?.runtime).toBe(runtimeVersion());
    for (const id of ['conv+batchnorm+relu', 'matmul+add', 'gelu']) {
      const committed = rules?.levels.all?.find((r) => r.id === id);
      expect([id, committed?.fused]).toEqual([id, (await probePattern(pattern(id), 'all')).fused]);
    }
  });
});
