// How a profile was measured, in words, and whether its runs were steady enough to trust:
// the CLI (one stderr line), the studio (beside each profile) and the bench all say it the
// same way from here.
//
// A profile's timed whole runs spread when something else takes the CPU while it measures
// (another program, a build, a browser redrawing). The profiler keeps its sum of layers in
// step with the whole run under such load (interleaved runs, layers scaled to the median
// run: main/profiling/profiler.ts), but the numbers then describe a busy machine, and a
// burst can still land on a few runs of one kind. A spread beyond UNSTABLE_SPREAD is
// flagged rather than reported silently.
import type { LatencyProfile } from './types.js';

/**
 * p90/p10 of the whole runs above which a profile is flagged as unstable. Steady runs on
 * this project's 2-core VM spread about 1.1 (MobileNetV3-small: 1.91–2.08 ms); beside other
 * programs' load they spread 2–10 (2.5–20 ms).
 */
export const UNSTABLE_SPREAD = 1.5;

/** p90/p10 of the profile's whole runs; null when it has none (predicted, or an older file). */
export function wholeRunSpread(profile: Pick<LatencyProfile, 'wholeModelSpread'>): number | null {
  const spread = profile.wholeModelSpread;
  if (!spread || !(spread.p10Ms > 0) || !Number.isFinite(spread.p90Ms)) return null;
  return spread.p90Ms / spread.p10Ms;
}

/** One sentence saying why a profile's runs are not to be trusted, or null when they were steady. */
export function instabilityWarning(profile: Pick<LatencyProfile, 'wholeModelSpread'>): string | null {
  const spread = wholeRunSpread(profile);
  if (spread === null || spread <= UNSTABLE_SPREAD) return null;
  const { p10Ms, p90Ms } = profile.wholeModelSpread!;
  return (
    `unstable runs: whole runs took ${formatSpreadMs(p10Ms)}–${formatSpreadMs(p90Ms)} ms (p10–p90, ${spread.toFixed(2)}× apart, ` +
    `bound ${UNSTABLE_SPREAD}×); something else was using the CPU — profile again when the machine is quieter`
  );
}

/** The settings a profile ran with, e.g. "optimisation all · 2 threads". */
export function profileSettings(profile: Pick<LatencyProfile, 'graphOptimization' | 'threads' | 'predicted'>): string {
  const threads = profile.threads === null ? 'threads not recorded' : `${profile.threads} thread${profile.threads === 1 ? '' : 's'}`;
  return `${profile.predicted ? 'predicted for ' : ''}optimisation ${profile.graphOptimization} · ${threads}`;
}

function formatSpreadMs(ms: number): string {
  return ms >= 10 ? ms.toFixed(1) : ms.toPrecision(3);
}
