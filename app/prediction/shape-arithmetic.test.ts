// Which layers are shape arithmetic (shape-arithmetic.ts), and that predictions give them the
// device's calibrated cost per kernel in place of their types' fits.
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../analysis/analyze.js';
import { readOnnxModel } from '../onnx/reader.js';
import { GraphBuilder } from '../onnx/builder.js';
import { predictProfile } from './predict.js';
import { isShapeArithmetic, shapeArithmeticProbe, shapeProbeKernels, SHAPE_PROBE_OPS } from './shape-arithmetic.js';
import { shapeArithmeticGraph } from './test-shape-graphs.js';
import { syntheticDevice } from './test-devices.js';

function shapeLayers(bytes: Uint8Array): string[] {
  const model = readOnnxModel(bytes);
  const analysis = analyzeModel(model, { defaultSymbolicDims: true });
  return analysis.layers.filter((layer) => isShapeArithmetic(layer, analysis)).map((layer) => layer.name);
}

describe('shape arithmetic', () => {
  it('is the Shapes and the integer kernels after them, not the Reshapes of data', () => {
    expect(shapeLayers(shapeArithmeticGraph('rows')).sort()).toEqual(
      ['/CastSame', '/Concat', '/ConcatTwice', '/GatherA', '/GatherB', '/MulOne', '/MulTwo', '/ShapeA', '/ShapeB', '/UnsqueezeA', '/UnsqueezeB'].sort()
    );
  });

  it('is no float element-wise layer and no Gather of many indices, however small', () => {
    const b = new GraphBuilder('not_shapes');
    const x = b.input('x', 'float32', [1, 4]);
    const tokens = b.input('tokens', 'int64', [64]);
    const scaled = b.op('Mul', [x, b.constantFloat('/two', [1], new Float32Array([2]))], {}, '/MulFloat');
    const picked = b.op('Gather', [b.constantInt64('/table', [128], Array.from({ length: 128 }, (_, i) => i)), tokens], { axis: 0 }, '/GatherMany');
    b.output(scaled, 'float32', [1, 4]);
    b.output(picked, 'int64', [64]);
    expect(shapeLayers(b.toBytes())).toEqual([]);
  });

  it("is every kernel of the calibration probe but its Reshape", () => {
    const layers = shapeLayers(shapeArithmeticProbe(3));
    expect(layers).toHaveLength(shapeProbeKernels(3) + 1);
    expect(shapeProbeKernels(3)).toBe(3 * SHAPE_PROBE_OPS.length);
  });

  it('costs each such layer what the device calibrated, where it did; its type\'s fit where not', () => {
    const model = readOnnxModel(shapeArithmeticGraph('rows'));
    const analysis = analyzeModel(model, { defaultSymbolicDims: true });
    const identity = { file: 'shapes.onnx', sha256: '0'.repeat(64), nodes: model.graph.nodes.length };
    const device = syntheticDevice();
    const plain = predictProfile(analysis, model, device, identity, { optimization: 'disabled' });
    const calibrated = predictProfile(analysis, model, { ...device, shapeArithmeticMsPerKernel: 0.000_3 }, identity, { optimization: 'disabled' });
    analysis.layers.forEach((layer, i) => {
      if (isShapeArithmetic(layer, analysis)) expect([layer.name, calibrated.layers[i].medianMs]).toEqual([layer.name, 0.000_3]);
      else expect([layer.name, calibrated.layers[i].medianMs]).toEqual([layer.name, plain.layers[i].medianMs]);
    });
    expect(calibrated.layers.some((timing, i) => timing.medianMs !== plain.layers[i].medianMs)).toBe(true);
  });
});
