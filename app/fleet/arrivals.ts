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

/** Which client each arrival belongs to: uniform over `clients`, so each client's own arrivals are Poisson at rate / clients. */
export function assignArrivals(count: number, clients: number, seed: number): number[] {
  const random = seededRandom(seed ^ 0x5bd1e995);
  return Array.from({ length: count }, () => Math.floor(random() * clients));
}
