// What a kernel timed alone pays that it does not pay inside a network. The sweep times
// each configuration as the one kernel of its model (main/profiling/characterize.ts), and
// a kernel run alone is slower than the same kernel run again right after: a Mul, Sigmoid,
// Softmax or Transpose over 1×16×64 took 1.1–1.4 µs as a sweep sample here, and 0.6–0.9 µs
// each, between-kernel cost included, as one of sixteen in a chain. The first kernel of
// its kind in a run pays it (its code and branches are cold after the run's JavaScript
// side), the next ones of that kind do not. Over a few microseconds a sample that is a
// layer's own work; but the text classifier runs 250 small layers of a dozen kinds, and
// was predicted 29–35 % long at 'all' and 56–64 % at 'disabled', while SENNA's eight
// layers of six kinds were predicted within 5 %. So a characterisation times that excess
// (calibrateLoneKernel there, with the probe networks built here): a probe op alone, as
// the sweep times it, against the same op's cost in a chain of LONE_KERNEL_CHAIN of them,
// run whole. Predictions keep it on the first layer of each op in a run, take it off the
// others, and share it among the copies the sweep timed of a layer with weights (only the
// first copy paid it): never more than LONE_KERNEL_MAX_SHARE of a layer.
import { GraphBuilder } from '../onnx/builder.js';

/** The ops probed: cheap, weightless or nearly so, of different kernels; the excess is the median over them. */
export const LONE_KERNEL_PROBE_OPS = ['Mul', 'Add', 'Sigmoid', 'Tanh', 'Softmax', 'Transpose'] as const;
export type LoneKernelProbeOp = (typeof LONE_KERNEL_PROBE_OPS)[number];

/** The probe's tensor: small, as the layers where the excess matters are. */
export const LONE_KERNEL_PROBE_SHAPE = [1, 16, 64] as const;

/** Kernels in a probe chain. */
export const LONE_KERNEL_CHAIN = 16;

/** At most this share of a layer's predicted time is taken off as the excess: the fastest chained op here ran at a quarter of its time alone. */
export const LONE_KERNEL_MAX_SHARE = 0.75;

/** Names of the nodes after the probe's kernels, which are not timed: the sweep's wrapper, so the probe's output is an intermediate as a sweep layer's is. */
export const LONE_KERNEL_WRAPPER = '/sweep/';

/**
 * A probe network: `count` kernels of `op` over LONE_KERNEL_PROBE_SHAPE, one after the
 * other, then the sweep's wrapper (a Shape reading the last output). Transposes swap the
 * last two axes, so a chain of them keeps alternating shapes.
 */
export function loneKernelProbe(op: LoneKernelProbeOp, count: number): Uint8Array {
  const b = new GraphBuilder(`lone-kernel-${op}-${count}`, { seed: 7 });
  const shape = [...LONE_KERNEL_PROBE_SHAPE];
  let x = b.input('x', 'float32', shape);
  for (let i = 0; i < count; i++) {
    const name = `/${op}_${i}`;
    if (op === 'Mul') x = b.mul(x, b.weight(`/scale_${i}`, [shape[shape.length - 1]], 1), name);
    else if (op === 'Add') x = b.add(x, b.weight(`/shift_${i}`, [shape[shape.length - 1]], 1), name);
    else if (op === 'Softmax') x = b.softmax(x, -1, name);
    else if (op === 'Transpose') x = b.transpose(x, [0, 2, 1], name);
    else x = b.op(op, [x], {}, name);
  }
  b.output(b.op('Shape', [x], {}, `${LONE_KERNEL_WRAPPER}Shape`), 'int64', null);
  return b.toBytes();
}

/**
 * A layer's predicted time inside a network from `aloneMs`, as the fits predict it from the
 * sweep, whose sample held the device's `excessMs` once over the `copies` it timed: the
 * first layer of its op in a run pays the whole excess, a later one none of it (never less
 * than (1 − LONE_KERNEL_MAX_SHARE) of `aloneMs`).
 */
export function inNetworkMs(aloneMs: number, excessMs: number | undefined, copies = 1, firstOfItsOp = false): number {
  if (!excessMs || !(excessMs > 0) || !(aloneMs > 0)) return aloneMs;
  const held = excessMs / Math.max(1, copies);
  return firstOfItsOp ? aloneMs - held + excessMs : Math.max(aloneMs - held, (1 - LONE_KERNEL_MAX_SHARE) * aloneMs);
}

/** Tells, in run order, whether a kernel is the first of its op this run (inNetworkMs). */
export function firstOfOpTracker(): (op: string) => boolean {
  const seen = new Set<string>();
  return (op) => {
    if (seen.has(op)) return false;
    seen.add(op);
    return true;
  };
}
