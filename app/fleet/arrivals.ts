// Open-loop Poisson arrivals for the fleet (app/fleet/types.ts): exponential gaps at a
// given rate from a seeded stream, so a run's schedule is the same every time. Open loop:
// the schedule never waits for answers, as real users do not.
import { seededRandom } from '../onnx/builder.js';

/** Arrival times, ms from 0, of a Poisson process at `ratePerS` over `durationMs`. */
export function poissonArrivals(ratePerS: number, durationMs: number, seed: number): number[] {
  if (!(Number.isFinite(ratePerS) && ratePerS > 0)) throw new RangeError(`the arrival rate must be a number > 0, got ${ratePerS}`);
  if (!(Number.isFinite(durationMs) && durationMs > 0)) throw new RangeError(`the duration must be a number > 0, got ${durationMs}`);
  const random = seededRandom(seed);
  const meanGapMs = 1000 / ratePerS;
  const times: number[] = [];
  for (let t = -Math.log(1 - random()) * meanGapMs; t < durationMs; t += -Math.log(1 - random()) * meanGapMs) times.push(t);
  return times;
}

/**
 * Which client each arrival belongs to: the clients in a seeded random order, taken in
 * turn (a fresh order each round). Every client gets rate / clients, and every window of
 * `clients` arrivals holds each client (so each model and network) once: the mix a point
 * measures is the mix asked for, not a draw from it — with VGG-16 most of the server's
 * work, a uniform draw alone would swing a short point's load by tens of percent.
 */
export function assignArrivals(count: number, clients: number, seed: number): number[] {
  const random = seededRandom(seed ^ 0x5bd1e995);
  const owners: number[] = [];
  const order = Array.from({ length: clients }, (_, i) => i);
  while (owners.length < count) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    owners.push(...order.slice(0, count - owners.length));
  }
  return owners;
}
