// The wire encodings on real bytes (issue 16), the Node half of app/partition/wire-encoding.ts:
// a tensor becomes the exact bytes that would travel (fp32, fp16, int8 or uint8 values,
// each optionally deflated; JPEG for an image input), and back, with the time each way
// measured on this machine. Deflate is Node's built-in zlib: the same DEFLATE stream that
// HTTP's Content-Encoding: deflate/gzip carries, so the executor (main/executor/server.ts)
// and any Triton client inflate it without a dependency; zstd would compress activations
// somewhat better but needs a native package Triton's HTTP endpoint does not speak.
// JPEG is sharp (libvips over libjpeg-turbo, the codec a phone's or a server's image stack
// uses): its prebuilt binary comes from the npm registry as an optional dependency, with no
// install script, and it encodes a 224×224 image in about 3 ms here where the pure-JavaScript
// jpeg-js took 30 ms, a cost that the emulated device then multiplied by its slowdown.
// It runs one libvips thread (set where image-inputs.ts loads it), as the device's single
// encoder would. Decoding is the executor's own (main/executor/image-inputs.ts), so what is
// measured here is what it runs.
import zlib from 'node:zlib';
import type Sharp from 'sharp';
import * as ort from 'onnxruntime-node';
import {
  type AffineParameters,
  type WireEncoding,
  dequantizeAffine,
  float16ToFloat32,
  float32ToFloat16,
  quantizeAffine,
  WireEncodingError,
  whyNotApplicable,
  wireEncodingName
} from '../../app/partition/wire-encoding.js';
import type { ElementTypeName } from '../../app/onnx/element-type.js';
import { decodeImages, ImageCodecError, ImageDecodeError, loadSharp } from '../executor/image-inputs.js';

/** Deflate level used on the wire: zlib's default, the usual speed/size balance. */
export const DEFLATE_LEVEL = 6;

export interface WireBytes {
  bytes: Uint8Array;
  encodeMs: number;
}

export interface RoundTrip {
  /** Bytes on the wire. */
  wireBytes: number;
  encodeMs: number;
  decodeMs: number;
  /** The tensor as the tail sees it after decoding (float32 for lossy encodings). */
  decoded: ort.Tensor;
}

function asBytes(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function elementTypeOf(tensor: ort.Tensor): ElementTypeName {
  const map: Partial<Record<string, ElementTypeName>> = { float32: 'float32', int64: 'int64', int32: 'int32', bool: 'bool', uint8: 'uint8', int8: 'int8', float16: 'float16', float64: 'float64' };
  return map[tensor.type] ?? 'undefined';
}

/** sharp, or why it cannot load as a WireEncodingError (one line). */
async function jpegCodec(): Promise<typeof Sharp> {
  try {
    return await loadSharp();
  } catch (error) {
    if (error instanceof ImageCodecError) throw new WireEncodingError(error.message);
    throw error;
  }
}

/** JPEG of an [N, C, H, W] tensor already quantized to uint8 pixels: each image length-prefixed (4 bytes, little-endian). */
async function jpegEncode(pixels: Uint8Array, dims: readonly number[], quality: number): Promise<Uint8Array> {
  const [n, c, h, w] = dims;
  const sharp = await jpegCodec();
  const parts: Uint8Array[] = [];
  for (let image = 0; image < n; image++) {
    const interleaved = Buffer.alloc(w * h * c);
    const base = image * c * h * w;
    for (let p = 0; p < h * w; p++) for (let k = 0; k < c; k++) interleaved[p * c + k] = pixels[base + k * h * w + p];
    const encoded = await sharp(interleaved, { raw: { width: w, height: h, channels: c as 1 | 3 } }).jpeg({ quality }).toBuffer();
    const prefix = new Uint8Array(4);
    new DataView(prefix.buffer).setUint32(0, encoded.byteLength, true);
    parts.push(prefix, encoded);
  }
  return Buffer.concat(parts);
}

async function jpegDecode(bytes: Uint8Array, dims: readonly number[]): Promise<Uint8Array> {
  const [n, c, h, w] = dims;
  try {
    return (await decodeImages(bytes, n, c as 1 | 3, { height: h, width: w }, 'JPEG')).pixels;
  } catch (error) {
    if (error instanceof ImageDecodeError || error instanceof ImageCodecError) throw new WireEncodingError(error.message);
    throw error;
  }
}

/** Throws the one-line reason when `encoding` cannot apply to `tensor` (named `name`). */
export function checkApplicable(encoding: WireEncoding, name: string, tensor: ort.Tensor, isModelInput: boolean): void {
  const reason = whyNotApplicable(encoding, { name, elementType: elementTypeOf(tensor), dims: tensor.dims, isModelInput });
  if (reason) throw new WireEncodingError(reason);
}

/**
 * Encodes `tensor` to the bytes on the wire. `affine` is needed for int8, uint8 and JPEG
 * (the calibrated per-tensor scale and zero point).
 */
export async function encodeTensor(tensor: ort.Tensor, encoding: WireEncoding, affine?: AffineParameters): Promise<WireBytes> {
  // Loading the codec once is not part of what an encoding costs.
  if (encoding.base === 'jpeg') await jpegCodec();
  const started = performance.now();
  let raw: Uint8Array;
  if (encoding.base === 'fp32') raw = asBytes(tensor.data as ArrayBufferView);
  else {
    const values = tensor.data as Float32Array;
    if (encoding.base === 'fp16') raw = asBytes(float32ToFloat16(values));
    else {
      if (!affine) throw new WireEncodingError(`${wireEncodingName(encoding)} needs a calibrated scale and zero point`);
      const quantized = asBytes(quantizeAffine(values, affine));
      raw = encoding.base === 'jpeg' ? await jpegEncode(quantized, tensor.dims, encoding.quality ?? 90) : quantized;
    }
  }
  const bytes = encoding.deflate ? new Uint8Array(zlib.deflateSync(raw, { level: DEFLATE_LEVEL })) : raw;
  return { bytes, encodeMs: performance.now() - started };
}

/** The quantized or half values the tail's graph takes (before its DequantizeLinear / Cast), or the float32 tensor back. */
export async function decodeTensor(bytes: Uint8Array, like: ort.Tensor, encoding: WireEncoding, affine?: AffineParameters): Promise<{ tensor: ort.Tensor; decodeMs: number }> {
  if (encoding.base === 'jpeg') await jpegCodec();
  const started = performance.now();
  const raw = encoding.deflate ? new Uint8Array(zlib.inflateSync(bytes)) : bytes;
  const aligned = (ctor: { BYTES_PER_ELEMENT: number }) => {
    const copy = new Uint8Array(raw.byteLength);
    copy.set(raw);
    return copy.buffer.slice(0, Math.floor(raw.byteLength / ctor.BYTES_PER_ELEMENT) * ctor.BYTES_PER_ELEMENT);
  };
  let tensor: ort.Tensor;
  if (encoding.base === 'fp32') {
    const Ctor = (like.data as ArrayBufferView).constructor as unknown as { new (b: ArrayBuffer): ort.Tensor.DataType; BYTES_PER_ELEMENT: number };
    tensor = new ort.Tensor(like.type, new Ctor(aligned(Ctor)), like.dims);
  } else if (encoding.base === 'fp16') {
    tensor = new ort.Tensor('float32', float16ToFloat32(new Uint16Array(aligned(Uint16Array))), like.dims);
  } else {
    if (!affine) throw new WireEncodingError(`${wireEncodingName(encoding)} needs a calibrated scale and zero point`);
    const quantized = encoding.base === 'jpeg' ? await jpegDecode(raw, like.dims) : affine.type === 'int8' ? new Int8Array(aligned(Int8Array)) : new Uint8Array(aligned(Uint8Array));
    tensor = new ort.Tensor('float32', dequantizeAffine(quantized, affine), like.dims);
  }
  return { tensor, decodeMs: performance.now() - started };
}

/** Encode then decode, timing both: what the wire costs this tensor. */
export async function roundTrip(tensor: ort.Tensor, encoding: WireEncoding, affine?: AffineParameters): Promise<RoundTrip> {
  const { bytes, encodeMs } = await encodeTensor(tensor, encoding, affine);
  const { tensor: decoded, decodeMs } = await decodeTensor(bytes, tensor, encoding, affine);
  return { wireBytes: bytes.byteLength, encodeMs, decodeMs, decoded };
}

/**
 * Image-like sample inputs for an [N, 3, H, W] float input: smooth gradients, a few flat
 * rectangles and mild noise, in ImageNet-normalised units (about −2..2.6). Uniform noise
 * (what generateInputs gives) is the worst case for every codec and no camera's output;
 * these stand in for photographs where none are bundled. Seeded, so every run is the same.
 */
export function imageLikeInput(dims: readonly number[], seed: number): Float32Array {
  let state = seed >>> 0 || 1;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const [n, c, h, w] = dims;
  const out = new Float32Array(n * c * h * w);
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  for (let image = 0; image < n; image++) {
    const fx = 1 + random() * 3;
    const fy = 1 + random() * 3;
    const phase = random() * 6.28;
    const rects = Array.from({ length: 4 }, () => ({ x: random() * w, y: random() * h, rw: (0.1 + random() * 0.4) * w, rh: (0.1 + random() * 0.4) * h, colour: [random(), random(), random()] }));
    for (let k = 0; k < c; k++) {
      const tint = random();
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          let v = 0.5 + 0.3 * Math.sin((fx * 6.28 * x) / w + phase + k) * Math.cos((fy * 6.28 * y) / h) + 0.2 * (tint - 0.5);
          for (const r of rects) if (x >= r.x && x < r.x + r.rw && y >= r.y && y < r.y + r.rh) v = r.colour[k % 3];
          v = Math.min(1, Math.max(0, v + (random() - 0.5) * 0.04));
          out[((image * c + k) * h + y) * w + x] = (v - mean[k % 3]) / std[k % 3];
        }
      }
    }
  }
  return out;
}

/** True when an input of these dims is an image the JPEG and image-like samples apply to. */
export function isImageDims(dims: readonly number[]): boolean {
  return dims.length === 4 && (dims[1] === 3 || dims[1] === 1) && dims[2] >= 8 && dims[3] >= 8;
}
