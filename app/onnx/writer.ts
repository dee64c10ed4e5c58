// Typed values → protobuf objects → bytes. Used by the model builder (zoo, tests) and by
// graph surgery in main/. Tensors that came from a file are re-used as they are (their
// raw bytes are views), so writing a head or tail copies each weight once, into the
// output buffer.
import Long from 'long';
import { onnx } from './generated/onnx.js';
import { elementTypeCode, type ElementTypeName } from './element-type.js';
import type { Dim } from './model.js';

export function encodeModel(model: onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

export function int64(value: number): Long {
  return Long.fromNumber(value);
}

export function valueInfoProto(name: string, elementType: ElementTypeName, shape: Dim[] | null): onnx.ValueInfoProto {
  const tensorType = new onnx.TypeProto.Tensor({ elemType: elementTypeCode(elementType) });
  if (shape) {
    tensorType.shape = new onnx.TensorShapeProto({
      dim: shape.map((d) =>
        typeof d === 'number'
          ? new onnx.TensorShapeProto.Dimension({ dimValue: int64(d) })
          : typeof d === 'string'
            ? new onnx.TensorShapeProto.Dimension({ dimParam: d })
            : new onnx.TensorShapeProto.Dimension({})
      )
    });
  }
  return new onnx.ValueInfoProto({ name, type: new onnx.TypeProto({ tensorType }) });
}

export type AttributeInput = number | string | number[] | string[] | { floats: number[] } | { float: number } | onnx.ITensorProto;

const AttributeType = onnx.AttributeProto.AttributeType;

/**
 * An attribute from a plain value: integers → INT/INTS, non-integers → FLOAT, strings →
 * STRING/STRINGS; `{ float: 1 }` and `{ floats: [...] }` force float types.
 */
export function attributeProto(name: string, value: AttributeInput): onnx.AttributeProto {
  if (typeof value === 'number') {
    return Number.isInteger(value)
      ? new onnx.AttributeProto({ name, type: AttributeType.INT, i: int64(value) })
      : new onnx.AttributeProto({ name, type: AttributeType.FLOAT, f: value });
  }
  if (typeof value === 'string') {
    return new onnx.AttributeProto({ name, type: AttributeType.STRING, s: new TextEncoder().encode(value) });
  }
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'string')) {
      return new onnx.AttributeProto({
        name,
        type: AttributeType.STRINGS,
        strings: (value as string[]).map((v) => new TextEncoder().encode(v))
      });
    }
    return new onnx.AttributeProto({ name, type: AttributeType.INTS, ints: (value as number[]).map(int64) });
  }
  if ('float' in value) return new onnx.AttributeProto({ name, type: AttributeType.FLOAT, f: value.float });
  if ('floats' in value) return new onnx.AttributeProto({ name, type: AttributeType.FLOATS, floats: value.floats });
  return new onnx.AttributeProto({ name, type: AttributeType.TENSOR, t: value });
}

/** A tensor proto with little-endian raw data taken as given (no copy). */
export function rawTensorProto(name: string, elementType: ElementTypeName, dims: number[], raw: Uint8Array): onnx.TensorProto {
  return new onnx.TensorProto({ name, dataType: elementTypeCode(elementType), dims: dims.map(int64), rawData: raw });
}

export function float32TensorProto(name: string, dims: number[], values: Float32Array): onnx.TensorProto {
  return rawTensorProto(name, 'float32', dims, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

export function int64TensorProto(name: string, dims: number[], values: number[]): onnx.TensorProto {
  const data = new BigInt64Array(values.map((v) => BigInt(v)));
  return rawTensorProto(name, 'int64', dims, new Uint8Array(data.buffer));
}

/** Typed arrays the tensor writers take, by element type (little-endian, as ONNX's raw_data is). */
export type TypedTensorData = Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;

/** A tensor proto of any numeric type from a typed array (viewed, not copied). */
export function typedTensorProto(name: string, elementType: ElementTypeName, dims: number[], values: TypedTensorData): onnx.TensorProto {
  return rawTensorProto(name, elementType, dims, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}
