// The profile-agreement figures of `npm run bench -- --only profile-agreement` (issue 13,
// items 4 and 5), on the real PyTorch exports (main/model/real-models.ts):
//   - the studio's "Profile local" against `neurosurgeon profile`, back to back on this
//     machine: the studio's service driven as the web host drives it (a StudioService,
//     profile.start → profile.done), the CLI spawned as a user runs it, alternating, five
//     of each; the median of the five back-to-back ratios (each pair ran within seconds, so
//     the machine's load drifting between pairs cancels) — goal 0.9–1.1;
//   - (Σ layer medians + runOverheadMs) / whole run while another process keeps one core
//     busy (`node -e "for(;;){}"`, started before and killed after): the profile is made
//     the one way every profile is (profileInChildProcess) — goal 0.9–1.1. Each figure
//     also says how far the layers' own medians were from the whole run before they were
//     scaled to the typical run (layerScale), and whether the profile was flagged unstable.
// The machine's load average before and after each figure is in its text: this project's
// machine is shared, and these are timings.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { instabilityWarning, profileSettings, wholeRunSpread } from '../../app/profiling/stability.js';
import { median } from '../../app/profiling/trace.js';
import type { LatencyProfile } from '../../app/profiling/types.js';
import type { StudioEvent } from '../../app/studio/contract.js';
import { listRealModels } from '../model/real-models.js';
import { profileInChildProcess } from '../profiling/profile-process.js';
import { checkProfileShape } from '../profiling/profiler.js';
import { packageRoot } from '../files/paths.js';
import { StudioService } from '../studio/service.js';
import type { BenchFigure } from './figure.js';

/** Two exports for the studio/CLI figure, three for the busy-core one (the others are slower or alike). */
const STUDIO_MODELS = ['mobilenet_v3_small', 'efficientnet_b0'];
const LOADED_MODELS = ['shufflenet_v2_x0_5', 'mobilenet_v3_small', 'regnet_y_400mf'];
const PAIRS = 5;
const RUNS = 20;
const WARMUP = 3;

function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
}

function benchMs(ms: number): string {
  return ms >= 10 ? ms.toFixed(1) : ms.toPrecision(3);
}

/** `neurosurgeon profile FILE --json` as a user runs it, with the CLI's defaults. */
function cliProfile(file: string): Promise<LatencyProfile> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(packageRoot(), 'bin', 'neurosurgeon.js'), 'profile', file, '--runs', String(RUNS), '--warmup', String(WARMUP), '--json'], {
      stdio: ['ignore', 'pipe', 'pipe']
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`neurosurgeon profile ${path.basename(file)} failed: ${stderr.trim().split('\n')[0] ?? code}`));
      try {
        resolve(checkProfileShape(JSON.parse(stdout), 'neurosurgeon profile'));
      } catch (error) {
        reject(error);
      }
    });
  });
}

/** The studio's "Profile local" on an opened model, as the renderer asks for it. */
async function studioProfile(service: StudioService, file: string): Promise<LatencyProfile> {
  const opened = await service.openPath(file);
  const done = new Promise<StudioEvent<'profile.done'>>((resolve) => {
    const off = service.on((event, payload) => {
      if (event === 'profile.done') {
        off();
        resolve(payload as StudioEvent<'profile.done'>);
      }
    });
  });
  await service.handle('profile.start', { modelId: opened.model.id, side: 'local', ep: 'cpu', runs: RUNS, warmup: WARMUP });
  const result = await done;
  if (result.outcome !== 'done' || !result.profile) throw new Error(`the studio's profile of ${path.basename(file)} ${result.outcome}: ${result.error ?? 'no profile'}`);
  return result.profile;
}

async function studioAgainstCli(files: Map<string, string>): Promise<BenchFigure[]> {
  const home = mkdtempSync(path.join(tmpdir(), 'bench-profile-studio-'));
  const service = new StudioService({
    host: 'web',
    home,
    connect: () => {
      throw new Error('no executor in this benchmark');
    },
    supervisor: null,
    log: (line) => process.stderr.write(`bench: ${line}\n`)
  });
  const figures: BenchFigure[] = [];
  try {
    for (const name of STUDIO_MODELS) {
      const file = files.get(name);
      if (!file) continue;
      process.stderr.write(`bench: ${name}: studio local and CLI profiles, ${PAIRS} of each, alternating…\n`);
      const loadBefore = loadAverage();
      const cli: LatencyProfile[] = [];
      const studio: LatencyProfile[] = [];
      for (let pair = 0; pair < PAIRS; pair++) {
        cli.push(await cliProfile(file));
        studio.push(await studioProfile(service, file));
      }
      const cliMs = median(cli.map((p) => p.wholeModelMs ?? NaN));
      const studioMs = median(studio.map((p) => p.wholeModelMs ?? NaN));
      const pairRatios = studio.map((p, i) => (p.wholeModelMs ?? NaN) / (cli[i].wholeModelMs ?? NaN));
      const ratio = median(pairRatios);
      const settings = new Set([...cli, ...studio].map((p) => profileSettings(p)));
      figures.push({
        figure: `studio local profile / CLI profile, whole run, ${name} (median of ${PAIRS} back-to-back pairs)`,
        measured:
          `${benchMs(studioMs)} ms median (studio: ${studio.map((p) => benchMs(p.wholeModelMs ?? NaN)).join(', ')}; ` +
          `pair ratios ${pairRatios.map((r) => r.toFixed(2)).join(', ')}; ${[...settings].join(' / ')}; load ${loadBefore}→${loadAverage()})`,
        baselineOrGoal: `${benchMs(cliMs)} ms median (CLI: ${cli.map((p) => benchMs(p.wholeModelMs ?? NaN)).join(', ')})`,
        ratio,
        goal: '0.9–1.1',
        met: ratio >= 0.9 && ratio <= 1.1
      });
    }
  } finally {
    await service.dispose();
    rmSync(home, { recursive: true, force: true });
  }
  return figures;
}

/** Keeps one core busy until stopped: a child process spinning in JavaScript. */
async function busyCore(): Promise<{ stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  if (child.exitCode !== null) throw new Error('the busy-core process ended at once');
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      })
  };
}

async function sumAgainstWholeUnderLoad(files: Map<string, string>): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  for (const name of LOADED_MODELS) {
    const file = files.get(name);
    if (!file) continue;
    process.stderr.write(`bench: ${name}: profiling while another process keeps one core busy…\n`);
    const loadBefore = loadAverage();
    const busy = await busyCore();
    let profile: LatencyProfile;
    try {
      profile = await profileInChildProcess(file, { ep: 'cpu', runs: RUNS, warmup: WARMUP });
    } finally {
      await busy.stop();
    }
    const whole = profile.wholeModelMs ?? NaN;
    const overhead = profile.runOverheadMs ?? 0;
    const ratio = (profile.sumOfMediansMs + overhead) / whole;
    const unscaled = (profile.sumOfMediansMs / (profile.layerScale ?? 1) + overhead) / whole;
    const warning = instabilityWarning(profile);
    figures.push({
      figure: `(Σ layer medians + per-run cost) / whole run, ${name}, one core kept busy by another process`,
      measured:
        `${benchMs(profile.sumOfMediansMs)} + ${benchMs(overhead)} ms (${profileSettings(profile)}; layers' own medians ${unscaled.toFixed(3)}× the whole run before scaling; ` +
        `whole-run p90/p10 ${(wholeRunSpread(profile) ?? NaN).toFixed(2)}${warning ? ', flagged unstable' : ''}; load ${loadBefore}→${loadAverage()})`,
      baselineOrGoal: `${benchMs(whole)} ms`,
      ratio,
      goal: '0.9–1.1',
      met: ratio >= 0.9 && ratio <= 1.1
    });
  }
  return figures;
}

export async function profileAgreementFigures(): Promise<BenchFigure[]> {
  const files = new Map(listRealModels().map((m) => [m.name, m.file]));
  if (files.size === 0) {
    process.stderr.write('bench: no real exports found (../shared/real-models or $NEUROSURGEON_REAL_MODELS); profile-agreement skipped\n');
    return [];
  }
  return [...(await studioAgainstCli(files)), ...(await sumAgainstWholeUnderLoad(files))];
}
