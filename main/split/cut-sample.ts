// The cuts the head → tail test suites check (surgery.test.ts, quantized-models.test.ts):
// every cut of a model up to EVERY_CUT_UP_TO layers, every third cut (and the last) of a
// longer one, so that `npm test` stays within its time; `npm run check:surgery`
// (NS_EVERY_CUT=1) checks every cut of every model, and the bench's real and quant sections
// check every cut of theirs.
export const EVERY_CUT_UP_TO = 40;
const SPREAD_STEP = 3;

/** Cuts 0..layerCount to check: all of them for a short model or when `everyCut`, else a spread. */
export function cutsToCheck(layerCount: number, everyCut = process.env.NS_EVERY_CUT === '1'): number[] {
  const all = Array.from({ length: layerCount + 1 }, (_, cut) => cut);
  if (everyCut || layerCount <= EVERY_CUT_UP_TO) return all;
  return all.filter((cut) => cut % SPREAD_STEP === 0 || cut === layerCount);
}
