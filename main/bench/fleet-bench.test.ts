// The fleet bench section (fleet-bench.ts) at a toy size: every figure is produced and
// well-formed, so `npm run bench -- --only fleet` does not fail at its end. Half the
// one-slot capacity, not more: the section's machinery, not a load on the tests beside it.
import { expect, it } from 'vitest';
import { fleetFigures } from './fleet-bench.js';

it('produces every fleet figure', async () => {
  const figures = await fleetFigures({ clients: 12, clients3g: 24, durationS: 1, rateMultiples: [0.5], models: ['lenet', 'kaldi-asr', 'senna-pos'], sustainClients: [30], refineSteps: 0 });
  expect(figures.map((f) => f.figure.split(':')[0])).toEqual(['fleet WIFI', 'fleet LTE', 'fleet 3G', 'fleet', 'fleet', 'fleet 3G', 'fleet', 'fleet']);
  for (const figure of figures) expect(Number.isFinite(figure.ratio)).toBe(true);
}, 300_000);
