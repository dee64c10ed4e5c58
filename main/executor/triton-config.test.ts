// Triton's model configuration, written as config.pbtxt and served as JSON from the same
// facts: data types, -1 for variable dims, exact digits beyond 2^53, and no made-up rank
// for a tensor whose rank is unknown.
import { describe, expect, it } from 'vitest';
import { renderPbtxt, TritonConfigError, tritonModelConfig } from './triton-config.js';

describe('tritonModelConfig', () => {
  it('gives data types and dims, -1 for variable ones', () => {
    const built = tritonModelConfig(
      'm-tail',
      [{ name: 'x', elementType: 'float32', shape: [1, 'batch', null, 224] }],
      [{ name: 'y', elementType: 'int64', shape: [] }, { name: 's', elementType: 'string', shape: [-1] }]
    );
    expect(built.notes).toEqual([]);
    expect(built.config).toEqual({
      name: 'm-tail',
      platform: 'onnxruntime_onnx',
      backend: 'onnxruntime',
      max_batch_size: 0,
      input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [1, -1, -1, 224] }],
      output: [
        { name: 'y', data_type: 'TYPE_INT64', dims: [] },
        { name: 's', data_type: 'TYPE_STRING', dims: [-1] }
      ]
    });
    expect(renderPbtxt(built)).toBe(
      [
        'name: "m-tail"',
        'platform: "onnxruntime_onnx"',
        'backend: "onnxruntime"',
        'max_batch_size: 0',
        'input [\n  {\n    name: "x"\n    data_type: TYPE_FP32\n    dims: [ 1, -1, -1, 224 ]\n  }\n]',
        'output [\n  {\n    name: "y"\n    data_type: TYPE_INT64\n    dims: [  ]\n  },\n  {\n    name: "s"\n    data_type: TYPE_STRING\n    dims: [ -1 ]\n  }\n]',
        ''
      ].join('\n')
    );
  });

  it('keeps dimensions beyond 2^53 exact when known, variable when not', () => {
    const exact = 2n ** 60n + 1n;
    const built = tritonModelConfig('big', [{ name: 'x', elementType: 'float32', shape: [exact, 2 ** 60, 7n] }], [{ name: 'y', elementType: 'float32', shape: [3] }]);
    expect(built.config.input?.[0].dims).toEqual(['1152921504606846977', -1, 7]);
    expect(renderPbtxt(built)).toContain('dims: [ 1152921504606846977, -1, 7 ]');
    expect(built.notes).toEqual(['x: a dimension beyond 2^53 whose exact value is not known is written as variable (-1)']);
    expect(renderPbtxt(built).startsWith('# x: a dimension beyond 2^53')).toBe(true);
  });

  it('never writes a rank for a tensor of unknown rank: that list is left to auto-complete', () => {
    const built = tritonModelConfig('u', [{ name: 'x', elementType: 'float32', shape: [1, 3] }], [{ name: 'y', elementType: 'float32', shape: null }]);
    expect(built.config.output).toBeUndefined();
    expect(built.config.input).toEqual([{ name: 'x', data_type: 'TYPE_FP32', dims: [1, 3] }]);
    const text = renderPbtxt(built);
    expect(text).not.toMatch(/output \[/);
    expect(text).not.toMatch(/dims: \[ -1 \]/);
    expect(text).toMatch(/^# outputs left to Triton's auto-complete from the model: y has an unknown rank/);
  });

  it('refuses an element type Triton has no data type for', () => {
    expect(() => tritonModelConfig('c', [{ name: 'z', elementType: 'complex64', shape: [1] }], [])).toThrow(TritonConfigError);
  });
});
