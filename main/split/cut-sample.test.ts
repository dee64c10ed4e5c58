// The cuts the head → tail suites check: all of a short model, a spread with both ends of a long one, all on request.
import { describe, expect, it } from 'vitest';
import { cutsToCheck, EVERY_CUT_UP_TO } from './cut-sample.js';

describe('cutsToCheck', () => {
  it('checks every cut up to the limit, every third with the last above it, and every one when asked', () => {
    expect(cutsToCheck(EVERY_CUT_UP_TO, false)).toHaveLength(EVERY_CUT_UP_TO + 1);
    const spread = cutsToCheck(301, false);
    expect(spread[0]).toBe(0);
    expect(spread[spread.length - 1]).toBe(301);
    expect(spread.slice(0, 4)).toEqual([0, 3, 6, 9]);
    expect(spread).toHaveLength(102);
    expect(cutsToCheck(301, true)).toHaveLength(302);
  });
});
