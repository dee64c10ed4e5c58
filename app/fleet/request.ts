// A fleet request checked before anything runs (app/fleet/types.ts): every number in
// range, every name known, one line naming the first problem. The CLI, the studio's
// service and the bench all pass through here.
import { FleetInputError } from './mix.js';
import { isFleetPolicy, MAX_REFINE_STEPS, PAPER_MODELS, type FleetRequest } from './types.js';
import { isNetworkPresetName } from '../partition/presets.js';

/** At most this many emulated clients in one run. */
export const MAX_FLEET_CLIENTS = 5000;

export function defaultFleetRequest(): FleetRequest {
  return {
    clients: 200,
    networkMix: { wifi: 1 },
    models: [...PAPER_MODELS],
    policies: ['cloud-only', 'neurosurgeon', 'load-aware'],
    rates: [10, 20, 30, 40],
    durationS: 8,
    deviceSlowdown: 20,
    objective: { p95Ms: 1000, scope: 'server', maxErrorShare: 0.01 },
    seed: 1
  };
}

/** Throws a FleetInputError naming the first bad field of `request`. */
export function checkFleetRequest(request: FleetRequest): void {
  const fail = (message: string): never => {
    throw new FleetInputError(message);
  };
  if (!(Number.isInteger(request.clients) && request.clients >= 1 && request.clients <= MAX_FLEET_CLIENTS)) fail(`--clients must be a whole number from 1 to ${MAX_FLEET_CLIENTS}, got ${request.clients}`);
  const networks = Object.entries(request.networkMix);
  if (networks.length === 0) fail('the network mix is empty');
  for (const [name, weight] of networks) {
    if (!isNetworkPresetName(name)) fail(`unknown network "${name}" in the mix; valid: wifi, lte, 3g, 5g, unshaped`);
    if (!(Number.isFinite(weight) && weight > 0)) fail(`the weight of ${name} must be a number > 0, got ${weight}`);
  }
  if (request.models.length === 0) fail('the fleet needs at least one model');
  if (request.policies.length === 0) fail('the fleet needs at least one policy');
  for (const policy of request.policies) if (!isFleetPolicy(policy)) fail(`unknown policy "${String(policy)}"; valid: cloud-only, neurosurgeon, load-aware`);
  if (request.rates.length === 0) fail('the fleet needs at least one arrival rate');
  for (const rate of request.rates) if (!(Number.isFinite(rate) && rate > 0 && rate <= 10_000)) fail(`arrival rates must be numbers in (0, 10000] queries/s, got ${rate}`);
  if (!(Number.isFinite(request.durationS) && request.durationS >= 1 && request.durationS <= 3600)) fail(`--duration-s must be a number from 1 to 3600, got ${request.durationS}`);
  if (!(Number.isFinite(request.deviceSlowdown) && request.deviceSlowdown >= 1)) fail(`the device slowdown must be a number ≥ 1, got ${request.deviceSlowdown}`);
  if (!(Number.isFinite(request.objective.p95Ms) && request.objective.p95Ms > 0)) fail(`the p95 objective must be a number of ms > 0, got ${request.objective.p95Ms}`);
  if (!(request.objective.maxErrorShare >= 0 && request.objective.maxErrorShare < 1)) fail(`the error share allowed must be in [0, 1), got ${request.objective.maxErrorShare}`);
  if (!Number.isInteger(request.seed)) fail(`--seed must be a whole number, got ${request.seed}`);
  const refine = request.refineSteps ?? 0;
  if (!(Number.isInteger(refine) && refine >= 0 && refine <= MAX_REFINE_STEPS)) fail(`--refine must be a whole number from 0 to ${MAX_REFINE_STEPS}, got ${refine}`);
}

/** "10,20,40" → [10, 20, 40], sorted; throws a FleetInputError on anything else. */
export function parseRates(text: string): number[] {
  const rates = text.split(',').map((p) => p.trim()).filter((p) => p !== '').map(Number);
  if (rates.length === 0 || rates.some((r) => !(Number.isFinite(r) && r > 0))) throw new FleetInputError(`--rates must be numbers > 0 separated by commas (queries/s), got "${text}"`);
  return [...new Set(rates)].sort((a, b) => a - b);
}
