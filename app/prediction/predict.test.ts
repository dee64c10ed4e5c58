// Predicted profiles of zoo models from a synthetic device profile: every layer gets a
// time, layers of unfitted types fall back to the roofline (flagged), the roofline comes
// from the sweep's own samples; and mixing measured with predicted profiles.
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../analysis/analyze.js';
import { readOnnxModel } from '../onnx/reader.js';
import { HARDWARE_PRESETS } from '../partition/estimate.js';
import type { DeviceProfile, LatencyProfile, LayerSample, RegressionFit } from '../profiling/types.js';
import { buildZooModel } from '../zoo/index.js';
import { syntheticDevice as syntheticDeviceOf } from './test-devices.js';
import { qdqTestGraph, qoperatorTestGraph } from '../analysis/test-quantized-graphs.js';
import { deviceHardware, HOT_WEIGHT_SAVING_CAP, hotWeightSaving, layerReplicas, memoryBytesPerMs, MIN_STREAMING_PROBES, mixProfiles, predictProfile, ProfileMixError, streamsWeights, weightStreamingBytesPerMs, weightCacheOccupancy, wholeModelEstimateMs } from './predict.js';
import { GraphBuilder } from '../onnx/builder.js';
import { nchwcReorders } from './nchwc-layout.js';
import { layerFeatures } from './features.js';

const identity = (file: string) => ({ file, sha256: `sha-of-${file}`, nodes: 0 });

/** Fits for every type but dataMovement: 0.01 ms + 1e-9 ms per unit of each feature. */
function syntheticDevice(samples: LayerSample[] = []): DeviceProfile {
  return syntheticDeviceOf({ samples, without: ['dataMovement'] });
}

function predict(id: string, device: DeviceProfile): LatencyProfile {
  const model = readOnnxModel(buildZooModel(id, { weights: 'zeros' }));
  return predictProfile(analyzeModel(model), model, device, identity(`${id}.onnx`));
}

describe('predictProfile', () => {
  it('predicts integer kernels by their own types, and a QDQ layer as its node plus one quantize step each', () => {
    const device = syntheticDevice();
    const qoperator = readOnnxModel(qoperatorTestGraph());
    const operatorProfile = predictProfile(analyzeModel(qoperator), qoperator, device, identity('qoperator.onnx'));
    const method = new Map(operatorProfile.layers.map((layer) => [layer.name, layer.method]));
    for (const name of ['/conv/QLinearConv', '/fc/QLinearMatMul', '/add/QLinearAdd', '/conv_integer/ConvInteger', '/matmul_integer/MatMulInteger', '/dynamic/DynamicQuantizeLinear']) {
      expect([name, method.get(name)]).toEqual([name, 'regression']);
    }
    const qdq = readOnnxModel(qdqTestGraph());
    const analysis = analyzeModel(qdq);
    const conv = predictProfile(analysis, qdq, device, identity('qdq.onnx')).layers[1];
    // conv: 0.01 + 1e-9 × (192 + 36 + 6912 + 1728 + 256); its steps: 0.01 + 1e-9 × 192 and 0.01 + 1e-9 × 256.
    expect(conv.method).toBe('regression');
    expect(conv.medianMs).toBeCloseTo(0.03 + 1e-9 * (192 + 36 + 6912 + 1728 + 256 + 192 + 256), 12);
    const withoutQuantize = { ...device, fits: device.fits.filter((fit) => fit.layerType !== 'quantize') };
    expect(predictProfile(analysis, qdq, withoutQuantize, identity('qdq.onnx')).layers[1].method).toBe('roofline');
  });

  it("adds each NCHWc layout reorder's cost at all, on the layer it is attributed to, and none at disabled", () => {
    const model = readOnnxModel(buildZooModel('lenet', { weights: 'zeros' }));
    const analysis = analyzeModel(model);
    const layout = { blockSize: 16, channelAlignment: 4 };
    const reorders = nchwcReorders(analysis, model.graph, layout);
    expect(reorders.length).toBeGreaterThan(0);
    const plain = { ...syntheticDevice(), nchwcLayout: layout };
    const costed = { ...plain, nchwcLayout: { ...layout, reorder: { interceptMs: 0.5, msPerByte: 1e-9, samples: 10 } } };
    const at = (device: DeviceProfile, optimization: 'all' | 'disabled') => predictProfile(analysis, model, device, identity('lenet.onnx'), { optimization });
    const withReorders = at(costed, 'all');
    const without = at(plain, 'all');
    reorders.forEach((reorder) => expect(withReorders.layers[reorder.layer].medianMs - without.layers[reorder.layer].medianMs).toBeCloseTo(reorders.filter((r) => r.layer === reorder.layer).reduce((sum, r) => sum + 0.5 + 1e-9 * r.bytes, 0), 9));
    expect(withReorders.sumOfMediansMs - without.sumOfMediansMs).toBeCloseTo(reorders.reduce((sum, r) => sum + 0.5 + 1e-9 * r.bytes, 0), 9);
    expect(at(costed, 'disabled').sumOfMediansMs).toBeCloseTo(at(plain, 'disabled').sumOfMediansMs, 12);
  });

  it("takes the cold-weight cost off the layers of a model whose weights fit in a core's cache, never more than HOT_WEIGHT_SAVING_CAP of a layer", () => {
    const model = readOnnxModel(buildZooModel('lenet', { weights: 'zeros' }));
    const analysis = analyzeModel(model);
    const paramBytes = analysis.layers.reduce((sum, layer) => sum + layer.paramBytes, 0);
    const cold = { ...syntheticDevice(), coldWeightMsPerByte: 1e-8 };
    const fits = { ...cold, coreCacheBytes: 2 * paramBytes };
    expect(weightCacheOccupancy(analysis, fits)).toBeCloseTo(0.5, 12);
    expect(weightCacheOccupancy(analysis, { ...cold, coreCacheBytes: paramBytes / 2 })).toBeCloseTo(2, 12);
    expect(weightCacheOccupancy(analysis, { ...cold, coreCacheBytes: null })).toBeNull();
    expect(weightCacheOccupancy(analysis, { ...fits, coldWeightMsPerByte: undefined })).toBeNull();
    const at = (device: DeviceProfile) => predictProfile(analysis, model, device, identity('lenet.onnx'), { optimization: 'disabled' });
    const hot = at(fits);
    const asSwept = at({ ...cold, coreCacheBytes: paramBytes / 2 });
    let capped = 0;
    let uncapped = 0;
    analysis.layers.forEach((layer, i) => {
      const swept = asSwept.layers[i].medianMs;
      const expected = layer.paramBytes >= 4096 ? Math.max(swept - 1e-8 * layer.paramBytes, (1 - HOT_WEIGHT_SAVING_CAP) * swept) : swept;
      expect([layer.name, hot.layers[i].medianMs]).toEqual([layer.name, expect.closeTo(expected, 12)]);
      if (layer.paramBytes >= 4096) {
        if (1e-8 * layer.paramBytes > HOT_WEIGHT_SAVING_CAP * swept) capped++;
        else uncapped++;
      }
    });
    // Both sides of the cap are exercised.
    expect(capped).toBeGreaterThan(0);
    expect(uncapped).toBeGreaterThan(0);
    // Weights filling three quarters of the cache save half the cold cost.
    const crowded = at({ ...cold, coreCacheBytes: paramBytes / 0.75 });
    expect(weightCacheOccupancy(analysis, { ...cold, coreCacheBytes: paramBytes / 0.75 }, 'disabled')).toBeCloseTo(0.75, 12);
    analysis.layers.forEach((layer, i) => {
      const swept = asSwept.layers[i].medianMs;
      const expected = layer.paramBytes >= 4096 ? Math.max(swept - 0.5e-8 * layer.paramBytes, (1 - HOT_WEIGHT_SAVING_CAP) * swept) : swept;
      expect([layer.name, crowded.layers[i].medianMs]).toEqual([layer.name, expect.closeTo(expected, 12)]);
    });
    expect(hot.sumOfMediansMs).toBeLessThan(crowded.sumOfMediansMs);
    expect(crowded.sumOfMediansMs).toBeLessThan(asSwept.sumOfMediansMs);
  });

  it('saves all the cold-weight cost up to half the cache, none from a full one, linearly between', () => {
    expect(hotWeightSaving(null)).toBe(0);
    expect(hotWeightSaving(0.17)).toBe(1);
    expect(hotWeightSaving(0.5)).toBe(1);
    expect(hotWeightSaving(0.82)).toBeCloseTo(0.36, 12);
    expect(hotWeightSaving(1)).toBe(0);
    expect(hotWeightSaving(1.5)).toBe(0);
  });

  it('counts a weight shared through Identity once per run where the runtime drops the Identity, and an embedding by the rows gathered', () => {
    // As PyTorch exports a stack of identical layers: the later ones read the first's weight through Identity.
    const b = new GraphBuilder('shared_weights', { seed: 1 });
    const tokens = b.input('tokens', 'int64', [1]);
    const table = b.weight('/emb.weight', [4096, 64], 64);
    const w = b.weight('/w', [64, 64], 64);
    let x = b.op('Gather', [table, tokens], { axis: 0 });
    for (let i = 0; i < 3; i++) x = b.op('MatMul', [x, i === 0 ? w : b.op('Identity', [w])]);
    b.output(x, 'float32', [1, 64]);
    const model = readOnnxModel(b.toBytes());
    const analysis = analyzeModel(model);
    expect(analysis.totals.weightBytesPerRun).toBe(64 * 64 * 4 + 64 * 4);
    expect(analysis.totals.paramBytes).toBe(4096 * 64 * 4 + 64 * 64 * 4);
    const device = { ...syntheticDevice(), coldWeightMsPerByte: 1e-8, coreCacheBytes: 2 * 64 * 64 * 4 };
    expect(weightCacheOccupancy(analysis, device, 'all')).toBeCloseTo(0.5 + 0.5 / 64, 12);
    // Without optimisation each layer's weights count, as the text classifier's MatMuls ran no faster for sharing one.
    expect(weightCacheOccupancy(analysis, device, 'disabled')).toBeCloseTo(1.5 + 0.5 / 64, 12);
    const copies = { ...syntheticDeviceOf(), coreCacheBytes: null };
    const disabled = predictProfile(analysis, model, copies, identity('shared.onnx'), { optimization: 'disabled' });
    const optimised = predictProfile(analysis, model, copies, identity('shared.onnx'), { optimization: 'all' });
    const matmuls = analysis.layers.filter((layer) => layer.opType === 'MatMul').map((layer) => layer.index);
    expect(disabled.layers[matmuls[0]].medianMs).toBeCloseTo(optimised.layers[matmuls[0]].medianMs, 12);
    for (const index of matmuls.slice(1)) expect(disabled.layers[index].medianMs).toBeGreaterThan(optimised.layers[index].medianMs);
  });

  it("charges a weight's Identity at 'disabled' as a view and its Transpose as a copy, to the layer reading it", () => {
    const b = new GraphBuilder('weight_kernels', { seed: 1 });
    let x = b.input('x', 'float32', [1, 64]);
    const w = b.weight('/w', [64, 64], 64);
    x = b.op('MatMul', [x, w]);
    x = b.op('MatMul', [x, b.op('Identity', [w])]);
    x = b.op('MatMul', [x, b.op('Transpose', [w], { perm: [1, 0] })]);
    b.output(x, 'float32', [1, 64]);
    const model = readOnnxModel(b.toBytes());
    const analysis = analyzeModel(model);
    const device = { ...syntheticDeviceOf(), coreCacheBytes: null };
    const disabled = predictProfile(analysis, model, device, identity('weight_kernels.onnx'), { optimization: 'disabled' });
    const [direct, aliased, transposed] = analysis.layers.filter((layer) => layer.opType === 'MatMul').map((layer) => disabled.layers[layer.index].medianMs);
    // The synthetic data-movement fit: 0.01 ms plus 1e-9 ms per unit of each feature.
    const bytes = 64 * 64 * 4;
    expect(aliased - direct).toBeCloseTo(0.01 + 1e-9 * bytes, 12);
    expect(transposed - direct).toBeCloseTo(0.01 + 1e-9 * (3 * bytes + 1), 12);
  });

  it("predicts a view at 'disabled' as a copy where another node also reads its input, as a view otherwise", () => {
    const b = new GraphBuilder('views', { seed: 1 });
    const x = b.input('x', 'float32', [1, 4096]);
    const alone = b.reshape(b.relu(x), [64, 64], '/alone');
    const read = b.relu(alone);
    const shape = b.op('Shape', [read]);
    const shared = b.reshape(read, [1, 4096], '/shared');
    b.output(shared, 'float32', [1, 4096]);
    b.output(shape, 'int64', [2]);
    const model = readOnnxModel(b.toBytes());
    const analysis = analyzeModel(model);
    const device = { ...syntheticDeviceOf(), coreCacheBytes: null };
    const at = (optimization: 'disabled' | 'all') => predictProfile(analysis, model, device, identity('views.onnx'), { optimization });
    const [aloneLayer, sharedLayer] = ['/alone', '/shared'].map((name) => analysis.layers.find((layer) => layer.name === name)!.index);
    // The synthetic data-movement fit: 0.01 ms plus 1e-9 ms per unit of each feature.
    const bytes = 4096 * 4;
    const disabled = at('disabled');
    expect(disabled.layers[aloneLayer].medianMs).toBeCloseTo(0.01 + 1e-9 * bytes, 12);
    expect(disabled.layers[sharedLayer].medianMs).toBeCloseTo(0.01 + 1e-9 * (2 * bytes + 1), 12);
    // Above 'disabled' the Shape of a static tensor is folded: both are views.
    const optimised = at('all');
    for (const index of [aloneLayer, sharedLayer]) expect(optimised.layers[index].medianMs).toBeLessThanOrEqual(0.01 + 1e-9 * bytes + 1e-12);
  });

  it('predicts every layer of resnet18, flagging the unfitted type (Flatten) as roofline', () => {
    const profile = predict('resnet18', syntheticDevice());
    expect(profile.layers).toHaveLength(49);
    expect(profile.predicted).toBe(true);
    expect(profile.wholeModelMs).toBeNull();
    for (const layer of profile.layers) {
      expect(layer.predicted).toBe(true);
      expect(layer.medianMs).toBeGreaterThan(0);
      expect(layer.p10Ms).toBe(layer.medianMs);
      expect(layer.p90Ms).toBe(layer.medianMs);
      expect(layer.method).toBe(layer.op === 'Flatten' ? 'roofline' : 'regression');
    }
    expect(profile.sumOfMediansMs).toBeCloseTo(profile.layers.reduce((sum, layer) => sum + layer.medianMs, 0), 9);
    const firstConv = profile.layers[0];
    expect(firstConv.op).toBe('Conv');
    // 0.01 + 1e-9 × (inputSize + filterStrideSquaredTimesFilters + macs + im2colElements + outputSize) for conv1 (7×7/2, 64 filters, 112×112 out).
    expect(firstConv.medianMs).toBeCloseTo(0.01 + 1e-9 * (3 * 224 * 224 + (49 / 4) * 64 + 64 * 112 * 112 * 3 * 49 + 112 * 112 * 3 * 49 + 64 * 112 * 112), 9);
  });

  it("keeps the device's lone-kernel excess on the first layer of each op in a run and takes it off the others, shared among the sweep's copies", () => {
    const plain = predict('lenet', syntheticDevice());
    const excessMs = 0.002;
    const lessened = predict('lenet', { ...syntheticDevice(), loneKernelExcessMs: excessMs });
    const analysis = analyzeModel(readOnnxModel(buildZooModel('lenet', { weights: 'zeros' })));
    const seen = new Set<string>();
    const kinds = { first: 0, later: 0 };
    plain.layers.forEach((layer, i) => {
      if (layer.method !== 'regression') return expect(lessened.layers[i].medianMs).toBe(layer.medianMs);
      const held = excessMs / layerReplicas(analysis.layers[i].paramBytes);
      const first = !seen.has(layer.op);
      seen.add(layer.op);
      kinds[first ? 'first' : 'later']++;
      const expected = first ? layer.medianMs - held + excessMs : Math.max(layer.medianMs - held, 0.25 * layer.medianMs);
      expect(lessened.layers[i].medianMs).toBeCloseTo(expected, 12);
    });
    // LeNet has two Convs, two pools, two Relus… and its conv and FC layers have weights, timed as copies.
    expect(kinds.first).toBeGreaterThan(2);
    expect(kinds.later).toBeGreaterThan(2);
    expect(analysis.layers.some((layer) => layerReplicas(layer.paramBytes) > 1)).toBe(true);
  });

  it("adds the device's per-run cost once to a predicted whole run", () => {
    const profile = predict('lenet', syntheticDevice());
    expect(profile.runOverheadMs).toBe(0.01);
    expect(wholeModelEstimateMs(profile)).toBeCloseTo(profile.sumOfMediansMs + 0.01, 12);
    expect(wholeModelEstimateMs({ ...profile, wholeModelMs: 3 })).toBe(3);
  });

  it("uses the size class of each conv layer's MACs, the two blended within a factor of 2 of their bound", () => {
    const device = syntheticDevice();
    const [conv] = device.fits.filter((fit) => fit.layerType === 'conv');
    const small = { ...conv, intercept: 0.01, coefficients: conv.features.map(() => 0), sizeFeature: 'macs', sizeTo: 1e8 };
    const large = { ...conv, intercept: 5, coefficients: conv.features.map(() => 0), sizeFeature: 'macs', sizeFrom: 1e8 };
    device.fits = [...device.fits.filter((fit) => fit.layerType !== 'conv'), small, large];
    const model = readOnnxModel(buildZooModel('vgg16', { weights: 'zeros' }));
    const analysis = analyzeModel(model);
    const profile = predictProfile(analysis, model, device, identity('vgg16.onnx'));
    const convs = analysis.layers.filter((layer) => layer.opType === 'Conv');
    expect(convs.some((layer) => (layer.macs ?? 0) < 1e8)).toBe(true);
    const blended = (macs: number): number => {
      const position = Math.log(macs / 1e8) / Math.log(2);
      if (position <= -1) return 0.01;
      if (position >= 1) return 5;
      return 0.01 + ((position + 1) / 2) * (5 - 0.01);
    };
    expect(convs.some((layer) => Math.abs(Math.log2((layer.macs ?? 0) / 1e8)) >= 1)).toBe(true);
    for (const layer of convs) expect(profile.layers[layer.index].medianMs).toBeCloseTo(blended(layer.macs ?? 0), 9);
  });

  it('predicts every layer of the transformer, its data movement by roofline', () => {
    const profile = predict('transformer', syntheticDevice());
    expect(profile.layers).toHaveLength(135);
    const roofline = new Set(profile.layers.filter((layer) => layer.method === 'roofline').map((layer) => layer.op));
    expect(roofline).toEqual(new Set(['Gather', 'Reshape', 'Transpose']));
    expect(profile.layers.every((layer) => Number.isFinite(layer.medianMs) && layer.medianMs >= 0)).toBe(true);
  });
});

describe('deviceHardware', () => {
  it("derives this device's roofline from the sweep's samples", () => {
    const samples: LayerSample[] = [
      { layerType: 'conv', features: { inputSize: 1, filterStrideSquaredTimesFilters: 1, macs: 1e8 }, ms: 2, config: 'c1' },
      { layerType: 'fc', features: { inputNeurons: 1, outputNeurons: 1, inputTimesOutputNeurons: 1, macs: 2e8 }, ms: 4, config: 'f1' },
      { layerType: 'activation', features: { neurons: 1e6 }, ms: 0.8, config: 'a1' },
      { layerType: 'dataMovement', features: { bytes: 4e6 }, ms: 0.8, config: 'd1' }
    ];
    const hardware = deviceHardware(syntheticDevice(samples));
    expect(hardware.gmacsPerSec).toBeCloseTo(50, 9);
    expect(hardware.gbPerSec).toBeCloseTo(10, 9);
    expect(hardware.perOpOverheadMs).toBeCloseTo(0.8, 9);
  });

  it('falls back to the preset of the provider without samples', () => {
    const hardware = deviceHardware(syntheticDevice());
    expect(hardware.gmacsPerSec).toBe(HARDWARE_PRESETS['mobile-cpu'].gmacsPerSec);
    expect(hardware.gbPerSec).toBe(HARDWARE_PRESETS['mobile-cpu'].gbPerSec);
  });
});

describe('mixProfiles', () => {
  const predicted = predict('resnet18', syntheticDevice());
  const measuredLayers = predicted.layers.slice(0, 10).map((layer) => ({
    index: layer.index,
    name: layer.name,
    op: layer.op,
    provider: 'CPUExecutionProvider',
    medianMs: 1,
    p10Ms: 0.9,
    p90Ms: 1.1,
    outputBytes: layer.outputBytes
  }));
  const measured: LatencyProfile = { ...predicted, predicted: false, wholeModelMs: 20, runs: 20, warmup: 3, sumOfMediansMs: 10, layers: measuredLayers };

  it('takes measured layers where present and predictions elsewhere', () => {
    const mixed = mixProfiles(measured, predicted);
    expect(mixed.layers).toHaveLength(49);
    expect(mixed.layers.slice(0, 10).every((layer) => layer.medianMs === 1 && layer.predicted === undefined)).toBe(true);
    expect(mixed.layers.slice(10)).toEqual(predicted.layers.slice(10));
    expect(mixed.predicted).toBe(true);
    expect(mixed.wholeModelMs).toBeNull();
    expect(mixed.sumOfMediansMs).toBeCloseTo(10 + predicted.layers.slice(10).reduce((sum, layer) => sum + layer.medianMs, 0), 9);
  });

  it('keeps the measured whole-model time when every layer is measured', () => {
    const complete = { ...measured, layers: predicted.layers.map((layer) => ({ ...measuredLayers[0], index: layer.index, name: layer.name, op: layer.op })) };
    const mixed = mixProfiles(complete, predicted);
    expect(mixed.predicted).toBe(false);
    expect(mixed.wholeModelMs).toBe(20);
  });

  it('refuses profiles of different models or providers', () => {
    expect(() => mixProfiles({ ...measured, model: identity('other.onnx') }, predicted)).toThrow(ProfileMixError);
    expect(() => mixProfiles({ ...measured, ep: 'cuda' }, predicted)).toThrow(/execution providers/);
  });
});

describe('weight streaming floor for one-row FC layers', () => {
  const fcSample = (inputs: number, outputs: number, ms: number): LayerSample => ({
    layerType: 'fc',
    features: { inputNeurons: inputs, outputNeurons: outputs, inputTimesOutputNeurons: inputs * outputs, macs: inputs * outputs },
    ms,
    config: `fc Gemm in=${inputs} out=${outputs}`
  });

  it('measures the streaming rate only on FC samples larger than the cache', () => {
    expect(weightStreamingBytesPerMs(syntheticDevice([fcSample(1024, 1024, 0.1)]))).toBeNull();
    // 9216×4096 float32 = 150,994,944 bytes in 5 ms.
    expect(weightStreamingBytesPerMs(syntheticDevice([fcSample(1024, 1024, 0.1), fcSample(9216, 4096, 5)]))).toBeCloseTo(150_994_944 / 5, 6);
  });

  it("takes the streaming probes' median over the samples' rate, from three probes on", () => {
    const device = syntheticDevice([fcSample(9216, 4096, 5)]);
    const probes = [3e7, 2e7, 2.2e7].map((bytesPerMs, i) => ({ atS: 10 * i, bytesPerMs }));
    expect(weightStreamingBytesPerMs({ ...device, streamingProbes: probes })).toBe(2.2e7);
    expect(weightStreamingBytesPerMs({ ...device, streamingProbes: probes.slice(0, MIN_STREAMING_PROBES - 1) })).toBeCloseTo(150_994_944 / 5, 6);
    expect(weightStreamingBytesPerMs({ ...syntheticDevice([]), streamingProbes: probes })).toBe(2.2e7);
  });

  it("keeps AlexNet's FC layers at least as slow as streaming their weights, and leaves a small model alone", () => {
    const device = syntheticDevice([fcSample(9216, 4096, 5)]);
    const rate = 150_994_944 / 5;
    const alexnet = readOnnxModel(buildZooModel('alexnet', { weights: 'zeros' }));
    const analysis = analyzeModel(alexnet);
    const profile = predictProfile(analysis, alexnet, device, identity('alexnet.onnx'));
    const fc6 = analysis.layers.find((l) => l.name === '/classifier/classifier.1/Gemm')!;
    expect(profile.layers[fc6.index].medianMs).toBeCloseTo(fc6.paramBytes / rate, 9);
    const lenet = readOnnxModel(buildZooModel('lenet', { weights: 'zeros' }));
    const small = predictProfile(analyzeModel(lenet), lenet, device, identity('lenet.onnx'));
    const ip1 = small.layers.find((l) => l.name === '/ip1/Gemm')!;
    expect(ip1.medianMs).toBeLessThan(0.02);
  });

  it('streams a small classifier head too when the activations a run writes fill the caches with the weights', () => {
    // A 3.9 MiB head after 1, then 20, maps of 1024×16×16 floats (1 MiB each).
    const headModel = (maps: number) => {
      const b = new GraphBuilder('head');
      let h = b.input('x', 'float32', [1, 1024, 16, 16]);
      for (let i = 0; i < maps; i++) h = b.relu(h, `/Relu${i}`);
      b.output(b.linear(b.flatten(b.globalAveragePool(h)), 1024, 1000, '/head/Gemm'), 'float32', null);
      return readOnnxModel(b.toBytes());
    };
    const few = analyzeModel(headModel(1));
    const many = analyzeModel(headModel(20));
    expect(streamsWeights(few)).toBe(false);
    expect(streamsWeights(many)).toBe(true);
    const device = syntheticDevice([fcSample(9216, 4096, 5)]);
    const rate = 150_994_944 / 5;
    const head = (analysis: ReturnType<typeof analyzeModel>, model: ReturnType<typeof headModel>) => {
      const layer = analysis.layers.find((l) => l.name === '/head/Gemm')!;
      return { ms: predictProfile(analysis, model, device, identity('head.onnx')).layers[layer.index].medianMs, floor: layer.paramBytes / rate };
    };
    const streamed = head(many, headModel(20));
    expect(streamed.ms).toBeCloseTo(streamed.floor, 9);
    expect(head(few, headModel(1)).ms).toBeLessThan(streamed.floor);
  });
});

describe('memory roof', () => {
  it('floors a memory-bound layer larger than the cache at the bandwidth the sweep measured beyond the cache', () => {
    const big: LayerSample = { layerType: 'activation', features: { neurons: 20e6, transcendentalNeurons: 0 }, ms: 16, config: 'activation Relu big' };
    const device = syntheticDevice([big]);
    expect(memoryBytesPerMs(device)).toBeCloseTo((8 * 20e6) / 16, 6);
    const b = new GraphBuilder('roof');
    const x = b.input('x', 'float32', [1, 512, 128, 128]);
    b.output(b.relu(b.relu(x, '/Relu_0'), '/Relu_1'), 'float32', [1, 512, 128, 128]);
    const model = readOnnxModel(b.toBytes());
    const relu = predictProfile(analyzeModel(model), model, device, identity('roof.onnx')).layers[1];
    expect(relu.medianMs).toBeCloseTo((2 * 4 * 512 * 128 * 128) / memoryBytesPerMs(device)!, 6);
    // Without a sample beyond the cache there is no roof: the fit alone.
    expect(predictProfile(analyzeModel(model), model, syntheticDevice(), identity('roof.onnx')).layers[1].medianMs).toBeLessThan(0.05);
  });
});

describe('what onnxruntime executes at all', () => {
  /** A device whose plain (disabled) conv-like fits give 1 ms and whose fits at 'all' give 0.1 ms. */
  function twoLevelDevice(): DeviceProfile {
    const device = syntheticDevice();
    const flat = (fit: RegressionFit, intercept: number, level?: 'all'): RegressionFit => ({ ...fit, coefficients: fit.features.map(() => 0), intercept, ...(level ? { level } : {}) });
    const convLike = device.fits.filter((fit) => ['conv', 'groupedConv', 'depthwiseConv'].includes(fit.layerType));
    device.fits = [...device.fits.filter((fit) => !convLike.includes(fit)), ...convLike.map((fit) => flat(fit, 1)), ...convLike.map((fit) => flat(fit, 0.1, 'all'))];
    return device;
  }

  function groupedConvs(): { model: ReturnType<typeof readOnnxModel>; analysis: ReturnType<typeof analyzeModel> } {
    const b = new GraphBuilder('grouped', { weights: 'zeros' });
    const x = b.input('x', 'float32', [1, 32, 8, 8]);
    const perGroup8 = b.conv(x, { inChannels: 32, outChannels: 32, kernel: 3, pad: 1, group: 4, name: '/per_group_8' });
    b.output(b.conv(perGroup8, { inChannels: 32, outChannels: 32, kernel: 3, pad: 1, group: 2, name: '/per_group_16' }), 'float32', null);
    const model = readOnnxModel(b.toBytes());
    return { model, analysis: analyzeModel(model) };
  }

  it('predicts a Conv the runtime keeps in the plain layout from the fits timed at disabled', () => {
    const { model, analysis } = groupedConvs();
    const device = { ...twoLevelDevice(), nchwcLayout: { blockSize: 16, channelAlignment: 4 } };
    const profile = predictProfile(analysis, model, device, identity('grouped.onnx'), { optimization: 'all' });
    expect(profile.layers.map((layer) => [layer.name, layer.medianMs])).toEqual([
      ['/per_group_8', 1],
      ['/per_group_16', 0.1]
    ]);
    // With an 8-channel block both run blocked; a profile without the layout (older) counts every Conv as blocked.
    expect(predictProfile(analysis, model, { ...device, nchwcLayout: { blockSize: 8, channelAlignment: 4 } }, identity('grouped.onnx'), { optimization: 'all' }).layers.map((l) => l.medianMs)).toEqual([0.1, 0.1]);
    expect(predictProfile(analysis, model, twoLevelDevice(), identity('grouped.onnx'), { optimization: 'all' }).layers.map((l) => l.medianMs)).toEqual([0.1, 0.1]);
    // A runtime without a blocked layout runs every Conv plain.
    expect(predictProfile(analysis, model, { ...device, nchwcLayout: null }, identity('grouped.onnx'), { optimization: 'all' }).layers.map((l) => l.medianMs)).toEqual([1, 1]);
  });

  it('predicts a pool on a plain tensor at all from the fit timed at disabled, and a blocked Conv over its padded channels', () => {
    const b = new GraphBuilder('lenet-like', { weights: 'zeros' });
    const x = b.input('x', 'float32', [1, 1, 28, 28]);
    const pooled = b.maxPool(b.conv(x, { inChannels: 1, outChannels: 20, kernel: 5, name: '/conv1' }), { kernel: 2, stride: 2 });
    b.output(pooled, 'float32', null);
    const model = readOnnxModel(b.toBytes());
    const analysis = analyzeModel(model);
    const device = { ...syntheticDevice(), nchwcLayout: { blockSize: 16, channelAlignment: 4 } };
    const flat = (fit: RegressionFit, intercept: number, level?: 'all'): RegressionFit => ({ ...fit, coefficients: fit.features.map(() => 0), intercept, ...(level ? { level } : {}) });
    const pool = device.fits.filter((fit) => fit.layerType === 'pooling');
    const conv = device.fits.filter((fit) => fit.layerType === 'conv');
    // Conv at 'all': 1e-6 ms per MAC of its GEMM and nothing else, so its prediction is the MACs it is counted for.
    const perMac = conv.map((fit): RegressionFit => ({ ...fit, coefficients: fit.features.map((name) => (name === 'gemmMacs' ? 1e-6 : 0)), intercept: 0, level: 'all' }));
    device.fits = [...device.fits.filter((fit) => fit.layerType !== 'pooling'), ...pool.map((fit) => flat(fit, 1)), ...pool.map((fit) => flat(fit, 0.1, 'all')), ...perMac];
    const profile = predictProfile(analysis, model, device, identity('lenet-like.onnx'), { optimization: 'all' });
    // 20 channels are part of a second block: onnxruntime turns them back, and the pool runs plain.
    expect(profile.layers[1].medianMs).toBe(1);
    expect(profile.layers[0].medianMs).toBeCloseTo((layerFeatures(analysis.layers[0], analysis, model.graph)!.features.gemmMacs * 32) / 20 / 1e6, 9);
  });

  it("costs a group that runs as one named kernel from that kernel's own samples, and by the type's fit without them", () => {
    const b = new GraphBuilder('silu', { weights: 'zeros' });
    const x = b.relu(b.input('x', 'float32', [1, 16, 56, 56]));
    b.output(b.mul(x, b.op('Sigmoid', [x], {}, '/Sigmoid'), '/Mul'), 'float32', null);
    const model = readOnnxModel(b.toBytes());
    const analysis = analyzeModel(model);
    const device = syntheticDevice();
    const activationFit = device.fits.find((fit) => fit.layerType === 'activation')!;
    // The type's fit: 1 ms whatever the size; QuickGelu's samples: 0.01 ms + 1 ns an element.
    device.fits = [...device.fits.filter((fit) => fit.layerType !== 'activation'), { ...activationFit, coefficients: activationFit.features.map(() => 0), intercept: 1, level: 'all' }];
    const quickGelu = [8192, 32768, 131072].map((n): LayerSample => ({
      layerType: 'activation',
      features: { neurons: n, transcendentalNeurons: n },
      ms: 0.01 + 1e-6 * n,
      config: `@all activation kernel QuickGelu x=1x${n}`,
      level: 'all'
    }));
    const rules = { kind: 'fusion-rules' as const, runtime: 'test', ep: 'cpu' as const, date: '', levels: { all: [{ id: 'silu', description: '', ops: ['Sigmoid', 'Mul'], fused: true, kernels: ['QuickGelu'], folded: [] }] } };
    const fusedMs = (profile: LatencyProfile): number => profile.layers.filter((layer) => layer.kernel === 'silu').reduce((sum, layer) => sum + layer.medianMs, 0);
    const elements = 16 * 56 * 56;
    expect(fusedMs(predictProfile(analysis, model, { ...device, samples: quickGelu }, identity('silu.onnx'), { optimization: 'all', rules }))).toBeCloseTo(0.01 + 1e-6 * elements, 6);
    expect(fusedMs(predictProfile(analysis, model, { ...device, samples: quickGelu.slice(1) }, identity('silu.onnx'), { optimization: 'all', rules }))).toBeCloseTo(1, 6);
  });

  it('costs a fused Transpose → MatMul as its MatMul, not as the Transpose first in the pattern', () => {
    const b = new GraphBuilder('scores', { weights: 'zeros' });
    const x = b.input('x', 'float32', [1, 64, 32]);
    b.output(b.op('MatMul', [b.relu(x), b.transpose(x, [0, 2, 1])]), 'float32', null);
    const model = readOnnxModel(b.toBytes());
    const analysis = analyzeModel(model);
    const device = syntheticDevice();
    const matmulFit = device.fits.find((fit) => fit.layerType === 'matmul')!;
    device.fits = [...device.fits.filter((fit) => fit !== matmulFit), { ...matmulFit, coefficients: matmulFit.features.map(() => 0), intercept: 2 }];
    const rules = { kind: 'fusion-rules' as const, runtime: 'test', ep: 'cpu' as const, date: '', levels: { all: [{ id: 'transpose+matmul', description: '', ops: ['Transpose', 'MatMul'], fused: true, kernels: ['FusedMatMul'], folded: [] }] } };
    const profile = predictProfile(analysis, model, device, identity('scores.onnx'), { optimization: 'all', rules });
    const fused = profile.layers.filter((layer) => layer.kernel === 'transpose+matmul');
    expect(fused.map((layer) => layer.op).sort()).toEqual(['MatMul', 'Transpose']);
    expect(fused.reduce((sum, layer) => sum + layer.medianMs, 0)).toBeCloseTo(2, 6);
  });
});
