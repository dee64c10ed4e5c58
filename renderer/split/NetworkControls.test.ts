// The bandwidth sliders' log scale: positions and Mbps round-trip, the ends are 0.1 Mbps
// and 10 Gbps (a loopback link measured at 9,635 Mbps fits), and values outside are
// clamped and marked off scale.
import { describe, expect, it } from 'vitest';
import { mbpsToSlider, offScale, sliderToMbps } from './NetworkControls.js';

describe('bandwidth slider scale', () => {
  it('maps 0.1 Mbps … 10 Gbps onto 0 … 1000 logarithmically', () => {
    expect(mbpsToSlider(0.1)).toBe(0);
    expect(mbpsToSlider(10_000)).toBe(1000);
    expect(mbpsToSlider(100)).toBe(600);
    expect(sliderToMbps(0)).toBe(0.1);
    expect(sliderToMbps(1000)).toBe(10_000);
    expect(sliderToMbps(600)).toBe(100);
    expect(mbpsToSlider(9635)).toBeLessThan(1000);
    expect(offScale(9635)).toBe(false);
  });

  it('clamps out-of-range bandwidths, marks them off scale, and round-trips every position', () => {
    expect(mbpsToSlider(0.01)).toBe(0);
    expect(mbpsToSlider(50_000)).toBe(1000);
    expect(offScale(50_000)).toBe(true);
    expect(offScale(0.05)).toBe(true);
    expect(offScale(sliderToMbps(1000))).toBe(false);
    for (let position = 0; position <= 1000; position += 7) expect(mbpsToSlider(sliderToMbps(position))).toBe(position);
  });
});
