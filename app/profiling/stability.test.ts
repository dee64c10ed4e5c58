// The words every host uses for a profile's settings and for runs too unsteady to trust.
import { describe, expect, it } from 'vitest';
import { instabilityWarning, profileSettings, UNSTABLE_SPREAD, wholeRunSpread } from './stability.js';

describe('a profile whose whole runs spread', () => {
  it('is steady up to the bound and flagged beyond it, with the numbers', () => {
    expect(wholeRunSpread({ wholeModelSpread: { p10Ms: 10, p90Ms: 12 } })).toBeCloseTo(1.2, 12);
    expect(instabilityWarning({ wholeModelSpread: { p10Ms: 10, p90Ms: 12 } })).toBeNull();
    expect(instabilityWarning({ wholeModelSpread: { p10Ms: 10, p90Ms: 10 * UNSTABLE_SPREAD } })).toBeNull();
    expect(instabilityWarning({ wholeModelSpread: { p10Ms: 52.4, p90Ms: 131 } })).toBe(
      'unstable runs: whole runs took 52.4–131.0 ms (p10–p90, 2.50× apart, bound 1.5×); something else was using the CPU — profile again when the machine is quieter'
    );
    expect(instabilityWarning({ wholeModelSpread: { p10Ms: 0.0421, p90Ms: 0.0977 } })).toMatch(/^unstable runs: whole runs took 0\.0421–0\.0977 ms/);
  });

  it('says nothing where there are no whole runs (predicted profiles, older files)', () => {
    expect(wholeRunSpread({ wholeModelSpread: null })).toBeNull();
    expect(instabilityWarning({ wholeModelSpread: null })).toBeNull();
    expect(instabilityWarning({ wholeModelSpread: { p10Ms: 0, p90Ms: 3 } })).toBeNull();
  });
});

describe('the settings a profile ran with', () => {
  it('names the optimisation level and the threads', () => {
    expect(profileSettings({ graphOptimization: 'all', threads: 2, predicted: false })).toBe('optimisation all · 2 threads');
    expect(profileSettings({ graphOptimization: 'disabled', threads: 1, predicted: false })).toBe('optimisation disabled · 1 thread');
    expect(profileSettings({ graphOptimization: 'disabled', threads: null, predicted: true })).toBe('predicted for optimisation disabled · threads not recorded');
  });
});
