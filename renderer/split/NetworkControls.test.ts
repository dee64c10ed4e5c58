// The bandwidth sliders' log scale: positions and Mbps round-trip, the ends are 0.1 Mbps
// and 1 Gbps, and values outside are clamped.
import { describe, expect, it } from 'vitest';
import { mbpsToSlider, sliderToMbps } from './NetworkControls.js';

describe('bandwidth slider scale', () => {
  it('maps 0.1 Mbps … 1 Gbps onto 0 … 1000 logarithmically', () => {
    expect(mbpsToSlider(0.1)).toBe(0);
    expect(mbpsToSlider(1000)).toBe(1000);
    expect(mbpsToSlider(10)).toBe(500);
    expect(sliderToMbps(0)).toBe(0.1);
    expect(sliderToMbps(1000)).toBe(1000);
    expect(sliderToMbps(500)).toBe(10);
  });

  it('clamps out-of-range bandwidths and round-trips every position', () => {
    expect(mbpsToSlider(0.01)).toBe(0);
    expect(mbpsToSlider(5000)).toBe(1000);
    for (let position = 0; position <= 1000; position += 7) expect(mbpsToSlider(sliderToMbps(position))).toBe(position);
  });
});
