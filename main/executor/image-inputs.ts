// Image inputs sent encoded, as a camera app uploads them: a BYTES tensor of JPEG (or PNG)
// images for a model input that takes uint8 pixels [N, C, H, W] with C 1 or 3. The executor
// decodes them here, with sharp (libvips over libjpeg-turbo, the codec wire-codecs.ts encodes
// with), into the planar pixels the model takes, before the request is checked against the
// model; the decode counts as the request's input time. The split runner's `jpeg` encoding
// sends a cut-0 tail's input this way, and wire-codecs.ts decodes the same payload on this
// side when it measures an encoding's accuracy.
import type Sharp from 'sharp';
import type { RawTensor } from './link.js';
import { firstLine } from '../errors/user-errors.js';
import { ProtocolError, type ModelMetadata, type TensorMetadata } from './protocol.js';

/** A payload that is not the images expected: one line naming which image and why. */
export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
}

/** The codec itself cannot be loaded here (no binary for this platform): one line. */
export class ImageCodecError extends Error {
  override name = 'ImageCodecError';
}

let loadingSharp: Promise<typeof Sharp> | null = null;

/**
 * sharp, loaded on first use: its native library costs every start of the CLI and the
 * executor about 0.3 s, and most never touch an image. One libvips thread: the executor's
 * cores belong to onnxruntime.
 */
export function loadSharp(): Promise<typeof Sharp> {
  return (loadingSharp ??= import('sharp').then(
    ({ default: sharp }) => {
      sharp.concurrency(1);
      sharp.cache(false);
      return sharp;
    },
    (error: unknown) => {
      // Tried again next time; meanwhile only JPEG is unavailable, in one line.
      loadingSharp = null;
      throw new ImageCodecError(`the JPEG codec (sharp) cannot be loaded on this machine: ${firstLine(error)}`);
    }
  ));
}

/**
 * Decodes `count` length-prefixed images (each a 4-byte little-endian length and the
 * encoded bytes, the BYTES elements' layout) into planar uint8 pixels [count, channels, H, W].
 * `height` and `width` of null take the first image's; every image must match them.
 */
export async function decodeImages(
  bytes: Uint8Array,
  count: number,
  channels: 1 | 3,
  size: { height: number | null; width: number | null },
  /** What the messages call the images ("JPEG"); none by default. */
  label = ''
): Promise<{ pixels: Uint8Array; dims: [number, number, number, number] }> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const named = label ? `${label} ` : '';
  let height = size.height;
  let width = size.width;
  let pixels: Uint8Array | null = null;
  let offset = 0;
  const sharp = await loadSharp();
  for (let image = 0; image < count; image++) {
    if (offset + 4 > bytes.byteLength) throw new ImageDecodeError(`${named}payload ends before image ${image} of ${count}`);
    const length = view.getUint32(offset, true);
    if (offset + 4 + length > bytes.byteLength) throw new ImageDecodeError(`${named}image ${image} of ${count} is cut short: ${bytes.byteLength - offset - 4} of ${length} bytes`);
    let decoded: { data: Buffer; info: { width: number; height: number; channels: number } };
    try {
      const source = sharp(bytes.subarray(offset + 4, offset + 4 + length));
      decoded = await (channels === 1 ? source.toColourspace('b-w') : source.removeAlpha().toColourspace('srgb')).raw().toBuffer({ resolveWithObject: true });
    } catch (error) {
      throw new ImageDecodeError(`${named}image ${image} of ${count} does not decode: ${(error as Error).message.split('\n')[0]}`);
    }
    height ??= decoded.info.height;
    width ??= decoded.info.width;
    if (decoded.info.width !== width || decoded.info.height !== height || decoded.info.channels !== channels) {
      throw new ImageDecodeError(`${named}image ${image} is ${decoded.info.width}x${decoded.info.height}x${decoded.info.channels}, expected ${width}x${height}x${channels}`);
    }
    offset += 4 + length;
    pixels ??= new Uint8Array(count * channels * height * width);
    const plane = height * width;
    const base = image * channels * plane;
    for (let p = 0; p < plane; p++) for (let k = 0; k < channels; k++) pixels[base + k * plane + p] = decoded.data[p * channels + k];
  }
  if (offset !== bytes.byteLength) throw new ImageDecodeError(`${named}payload has ${bytes.byteLength - offset} bytes after its ${count} images`);
  return { pixels: pixels ?? new Uint8Array(0), dims: [count, channels, height ?? 0, width ?? 0] };
}

/** True when the model input takes images as uint8 pixels [N, C, H, W] with C 1 or 3. */
function takesImages(spec: TensorMetadata): boolean {
  return spec.datatype === 'UINT8' && spec.shape.length === 4 && (spec.shape[1] === 1 || spec.shape[1] === 3);
}

/**
 * The request's inputs with each BYTES tensor sent for an image input decoded to its pixels;
 * other inputs as they are (checkAgainstModel then judges them all). Refuses with 400, naming
 * the input: images of another size or channel count, a count that is not the batch the
 * model takes, or bytes that do not decode.
 */
export async function decodeImageInputs(metadata: ModelMetadata, inputs: readonly RawTensor[]): Promise<RawTensor[]> {
  const specs = new Map(metadata.inputs.map((t) => [t.name, t]));
  return Promise.all(
    inputs.map(async (input) => {
      const spec = specs.get(input.name);
      if (input.datatype !== 'BYTES' || !spec || !takesImages(spec)) return input;
      if (input.shape.length !== 1) throw new ProtocolError(400, `input '${input.name}': images go as a BYTES tensor of shape [N], not [${input.shape.join(',')}]`);
      const [batch, channels, height, width] = spec.shape as [number, 1 | 3, number, number];
      const count = input.shape[0];
      if (batch !== -1 && count !== batch) throw new ProtocolError(400, `input '${input.name}': ${count} images, the model takes ${batch}`);
      try {
        const { pixels, dims } = await decodeImages(input.data, count, channels, { height: height === -1 ? null : height, width: width === -1 ? null : width });
        return { name: input.name, datatype: 'UINT8', shape: dims, data: pixels };
      } catch (error) {
        if (error instanceof ImageDecodeError) throw new ProtocolError(400, `input '${input.name}': ${error.message}`);
        if (error instanceof ImageCodecError) throw new ProtocolError(501, `input '${input.name}': ${error.message}`);
        throw error;
      }
    })
  );
}
