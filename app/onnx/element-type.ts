// ONNX element types (TensorProto.DataType): names, byte sizes and the type names used
// in the Open Inference Protocol and in onnxruntime. Shared by the reader, the analysis
// and the surgery writer.

export const ElementType = {
  undefined: 0,
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
  float16: 10,
  float64: 11,
  uint32: 12,
  uint64: 13,
  complex64: 14,
  complex128: 15,
  bfloat16: 16,
  float8e4m3fn: 17,
  float8e4m3fnuz: 18,
  float8e5m2: 19,
  float8e5m2fnuz: 20,
  uint4: 21,
  int4: 22,
  float4e2m1: 23,
  float8e8m0: 24
} as const;

export type ElementTypeName = keyof typeof ElementType;
export type ElementTypeCode = (typeof ElementType)[ElementTypeName];

const namesByCode = new Map<number, ElementTypeName>(
  (Object.entries(ElementType) as [ElementTypeName, number][]).map(([name, code]) => [code, name])
);

/** Bits per element; strings have no fixed size (0). */
const bitsByName: Record<ElementTypeName, number> = {
  undefined: 0,
  float32: 32,
  uint8: 8,
  int8: 8,
  uint16: 16,
  int16: 16,
  int32: 32,
  int64: 64,
  string: 0,
  bool: 8,
  float16: 16,
  float64: 64,
  uint32: 32,
  uint64: 64,
  complex64: 64,
  complex128: 128,
  bfloat16: 16,
  float8e4m3fn: 8,
  float8e4m3fnuz: 8,
  float8e5m2: 8,
  float8e5m2fnuz: 8,
  uint4: 4,
  int4: 4,
  float4e2m1: 4,
  float8e8m0: 8
};

export function elementTypeName(code: number): ElementTypeName {
  return namesByCode.get(code) ?? 'undefined';
}

export function elementTypeCode(name: ElementTypeName): number {
  return ElementType[name];
}

export function elementBits(type: ElementTypeName): number {
  return bitsByName[type];
}

/** Bytes for `count` elements (sub-byte types are packed, rounded up). */
export function byteSizeOf(type: ElementTypeName, count: number): number {
  return Math.ceil((count * bitsByName[type]) / 8);
}
