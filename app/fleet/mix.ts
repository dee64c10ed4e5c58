// Network mixes and model spread of the fleet's clients (app/fleet/types.ts): a mix is
// "wifi", "lte", "3g" or weights like "wifi:0.5,lte:0.3,3g:0.2"; clients get networks in
// proportion (largest remainders, so 200 clients of 0.5/0.3/0.2 are exactly 100/60/40) and
// models round-robin over the list, interleaved with networks so every network sees every model.
import { isNetworkPresetName } from '../partition/presets.js';

export class FleetInputError extends Error {
  override name = 'FleetInputError';
}

/** "wifi" → { wifi: 1 }; "wifi:0.5,lte:0.3,3g:0.2" → weights normalised to sum 1. */
export function parseNetworkMix(text: string): Record<string, number> {
  const mix: Record<string, number> = {};
  const parts = text.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length === 0) throw new FleetInputError('the network mix is empty; give e.g. wifi, lte, 3g or wifi:0.5,lte:0.3,3g:0.2');
  for (const part of parts) {
    const [name, weightText, ...rest] = part.split(':');
    if (rest.length > 0 || !isNetworkPresetName(name)) throw new FleetInputError(`"${part}" is not a network of the mix; give NAME or NAME:WEIGHT with NAME one of wifi, lte, 3g, 5g, unshaped`);
    const weight = weightText === undefined ? 1 : Number(weightText);
    if (!(Number.isFinite(weight) && weight > 0)) throw new FleetInputError(`the weight of ${name} must be a number > 0, got "${weightText}"`);
    mix[name] = (mix[name] ?? 0) + weight;
  }
  const total = Object.values(mix).reduce((a, b) => a + b, 0);
  return Object.fromEntries(Object.entries(mix).map(([name, weight]) => [name, weight / total]));
}

/** The network of each of `clients` clients, in proportion to the mix (largest remainders). */
export function assignNetworks(mix: Record<string, number>, clients: number): string[] {
  const names = Object.keys(mix);
  const exact = names.map((name) => mix[name] * clients);
  const counts = exact.map(Math.floor);
  const order = names.map((_, i) => i).sort((a, b) => exact[b] - counts[b] - (exact[a] - counts[a]) || a - b);
  for (let i = 0, left = clients - counts.reduce((a, b) => a + b, 0); left > 0; i++, left--) counts[order[i % order.length]]++;
  // Interleave so that consecutive clients (and so the model round-robin) cross networks.
  const networks: string[] = [];
  const remaining = [...counts];
  while (networks.length < clients) {
    for (let i = 0; i < names.length; i++) {
      if (remaining[i] > 0) {
        networks.push(names[i]);
        remaining[i]--;
      }
    }
  }
  return networks;
}

/**
 * The model of each client: round-robin over `models` within each network, so each
 * network's clients spread evenly over the models.
 */
export function assignModels(networks: readonly string[], models: readonly string[]): string[] {
  if (models.length === 0) throw new FleetInputError('the fleet needs at least one model');
  const seen = new Map<string, number>();
  return networks.map((network) => {
    const index = seen.get(network) ?? 0;
    seen.set(network, index + 1);
    return models[index % models.length];
  });
}
