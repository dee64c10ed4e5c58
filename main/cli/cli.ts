// main/cli/ — the `neurosurgeon` command line: each command's definition, its option parsing
// (options.ts), its human-readable output (format.ts, reports.ts) and its one-line errors (errors.ts).
//
// The `neurosurgeon` command line: the engine's work (analysis, planning, splitting, the
// sample zoo) for scripts and CI. Every failure is one line on stderr and exit code 2
// (errors.ts, main/errors/); --json output is stable and documented in README.md.
import { Command, CommanderError, Option } from 'commander';
import path from 'node:path';
import { resolvedDims, type AnalyzedModel, type RuntimeShapeMode } from '../model/analyze-file.js';
import { openModelForCli } from './open-model.js';
import { reportAndExit } from './errors.js';
import { UsageError } from '../errors/user-errors.js';
import { nonNegativeInteger, positiveInteger, positiveNumber, print } from './options.js';
import { formatBytes, formatCount, formatMs, table } from './format.js';
import { analysisReport } from './reports.js';
import { partitionProblem, planModel, planOptions, resolveNetwork, type PlanRequest } from '../split/plan-service.js';
import { planEncoded } from '../split/encoded-plan.js';
import { parseWireEncoding } from '../../app/partition/wire-encoding.js';
import { buildCutTable } from '../../app/partition/cuts.js';
import { latenciesFromFile, resolveLatencies, slowedDown, threadsMismatch, type SideLatencies } from '../profiling/latency-sources.js';
import { profileModel, writeProfileFile, type ProfilePhase } from '../profiling/profiler.js';
import { progressLine } from '../profiling/profile-process.js';
import { instabilityWarning, profileSettings, wholeRunSpread } from '../../app/profiling/stability.js';
import { loadInputs, parseInputPairs } from '../model/input-files.js';
import { INTRA_OP_THREADS_ENV, intraOpThreads, listProviders } from '../profiling/providers.js';
import { describePinning, pinAsAsked } from '../profiling/cpu-affinity.js';
import { ruleDecides } from '../model/prepacking.js';
import { characterizeDevice, readDeviceProfile } from '../profiling/characterize.js';
import { refitDeviceProfile } from '../profiling/refit.js';
import type { DeviceProfile, LatencyProfile, LayerTypeError } from '../../app/profiling/types.js';
import { defaultFusionRulesFile, probeFusionRules } from '../profiling/fusion-probe.js';
import { writeFileAtomic } from '../files/atomic-write.js';
import { defaultPowerProfile, parsePowerProfile, type DevicePowerProfile } from '../../app/partition/power.js';
import { DEFAULT_GRAPH_OPTIMIZATION, DEFAULT_PROFILE_RUNS, DEFAULT_PROFILE_WARMUP, EXECUTION_PROVIDERS, type ExecutionProviderName, type GraphOptimization } from '../../app/profiling/types.js';
import { readJsonFile } from '../files/json-file.js';
import { checkOutputLocation } from '../files/output-path.js';
import { writeSplit } from '../split/split-files.js';
import { defaultZooDir, toolVersion } from '../files/paths.js';
import { writeZoo } from '../model/zoo-files.js';
import { writeQuantizedModels } from '../model/quantized-models.js';
import { registerQuantizeCommand } from './quantize-command.js';
import { formatShape } from '../../app/onnx/model.js';
import { wholeModelEstimateMs } from '../../app/prediction/predict.js';
import { ELIMINATED_KERNEL } from '../../app/prediction/eliminated.js';
import { registerStudioCommands } from './studio-command.js';
import { registerRunCommands } from './run-commands.js';
import { registerExecutorCommands } from './executor-command.js';
import { ExecutorClient } from '../executor/client.js';
import { profileOn } from '../split/split-prediction.js';
import { registerExportCommand } from './export-command.js';
import { registerFleetCommand } from './fleet-command.js';

const debug = process.argv.includes('--debug');

interface ModelOptions {
  dim?: string[];
  runtimeShapes: RuntimeShapeMode;
}

function addModelOptions(command: Command): Command {
  return command
    .option('--dim <name=size...>', 'value of a symbolic dimension (default: 1)')
    .addOption(new Option('--runtime-shapes <mode>', 'run the model once to settle shapes static inference cannot').choices(['auto', 'always', 'never']).default('auto'))
    .option('--debug', 'print stack traces on errors');
}

function addNetworkOptions(command: Command): Command {
  return command
    .option('--network <name>', 'network preset: wifi, lte, 3g, 5g, unshaped', 'wifi')
    .option('--uplink-mbps <x>', 'uplink bandwidth, Mbps', positiveNumber('--uplink-mbps'))
    .option('--downlink-mbps <y>', 'downlink bandwidth, Mbps', positiveNumber('--downlink-mbps'))
    .option('--rtt-ms <z>', 'round-trip time, ms', (v) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new UsageError(`--rtt-ms must be a number ≥ 0, got "${v}"`);
      return n;
    })
    .option('--load <k>', 'server load factor K (remote latency × K)', positiveNumber('--load'), 1)
    .addOption(new Option('--objective <objective>', 'what to minimise').choices(['latency', 'energy']).default('latency'))
    .option('--local <file>', 'device latencies: a measured profile (profile) or a device profile (characterize)')
    .option('--remote <file>', 'server latencies: a measured profile or a device profile')
    .option('--device <preset>', 'hardware preset for estimated device latencies (without --local)', 'mobile-cpu')
    .option('--server <preset>', 'hardware preset for estimated server latencies (without --remote)', 'server-gpu')
    .option('--power <file>', 'device power profile JSON (compute power per provider, idle, radio per network)')
    .option('--device-slowdown <f>', 'plan for a device f× slower than its latencies say (as run and sweep emulate one)', positiveNumber('--device-slowdown'), 1)
    .addOption(new Option('--local-ep <ep>', 'provider the device part runs on (picks its compute power)').choices([...EXECUTION_PROVIDERS]).default('cpu'));
}

interface NetworkCliOptions {
  network: string;
  uplinkMbps?: number;
  downlinkMbps?: number;
  rttMs?: number;
  load: number;
  objective: 'latency' | 'energy';
  local?: string;
  remote?: string;
  device: string;
  server: string;
  power?: string;
  localEp: ExecutionProviderName;
  deviceSlowdown: number;
}

async function readPowerProfile(file: string | undefined): Promise<DevicePowerProfile> {
  if (!file) return defaultPowerProfile();
  return parsePowerProfile(await readJsonFile(file, (message) => new UsageError(message)));
}

function withSlowerDevice<T extends { local: SideLatencies }>(latencies: T, factor: number): T {
  return { ...latencies, local: slowedDown(latencies.local, factor) };
}

async function planRequest(analyzed: AnalyzedModel, options: NetworkCliOptions, dag: boolean): Promise<PlanRequest> {
  const power = await readPowerProfile(options.power);
  return {
    network: resolveNetwork(options.network, { uplinkMbps: options.uplinkMbps, downlinkMbps: options.downlinkMbps, rttMs: options.rttMs }, power),
    serverLoad: options.load,
    objective: options.objective,
    latencies: withSlowerDevice(
      await resolveLatencies(analyzed, {
        localFile: options.local,
        remoteFile: options.remote,
        devicePreset: options.device,
        serverPreset: options.server
      }),
      options.deviceSlowdown
    ),
    power,
    localEp: options.localEp,
    dag
  };
}

/** Several lines of a message as one. */
function oneLine(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join(' ');
}

/** `characterize --device-executor`: the sweep runs on the device executor's machine; its device profile is written to `out`. */
async function characterizeOnDevice(url: string, token: string | undefined, budgetS: number, out: string): Promise<DeviceProfile> {
  const device = new ExecutorClient({ url, token, role: 'device executor' });
  try {
    process.stderr.write(`neurosurgeon: characterising the device executor ${device.url} for up to ${budgetS} s\n`);
    const profile = await device.characterize({ budgetS });
    writeFileAtomic(out, `${JSON.stringify(profile, null, 2)}\n`);
    return profile;
  } finally {
    device.close();
  }
}

const program = new Command();
program
  .name('neurosurgeon')
  .description('Neurosurgeon Studio: split a DNN between device and server for the lowest latency or device energy')
  .version(toolVersion())
  // Commander's own errors (unknown command or option, missing argument) as one line, like every other error.
  .configureOutput({ outputError: (text, write) => write(`neurosurgeon: ${oneLine(text.replace(/^error: /, ''))}; see neurosurgeon --help\n`) })
  .option('--threads <n>', `onnxruntime intra-op threads of every session, executors started from here included (default: one per core; also ${INTRA_OP_THREADS_ENV})`, positiveInteger('--threads'))
  .option('--cpus <list>', 'pin this process, and the executors and profilers it starts, to these CPUs (0, 0-3,6), or to the fastest by memory latency (auto: as many as --threads); Linux')
  .hook('preAction', () => {
    const { threads, cpus } = program.opts<{ threads?: number; cpus?: string }>();
    if (threads !== undefined) process.env[INTRA_OP_THREADS_ENV] = String(threads);
    if (cpus !== undefined) {
      process.stderr.write(`neurosurgeon: running on ${describePinning(pinAsAsked(cpus, intraOpThreads()))}\n`);
    }
    ruleDecides();
  })
  .exitOverride();

addModelOptions(program.command('analyze').argument('<model>', 'ONNX file').description('per-layer shapes, bytes, parameters and MACs'))
  .option('--json', 'machine-readable output')
  .action(async (model: string, options: ModelOptions & { json?: boolean }) => {
    const analyzed = await openModelForCli(model, options);
    const report = analysisReport(analyzed);
    if (options.json) return print(JSON.stringify(report, null, 2));
    const rows = report.layers.map((l) => [
      String(l.index),
      l.name,
      l.op,
      l.outputs.map((o) => formatShape(o.shape)).join(' '),
      formatBytes(l.outputBytes),
      formatCount(l.params),
      formatCount(l.macs),
      formatCount(l.intMacs),
      l.flags.join(',')
    ]);
    print(table(['#', 'name', 'op', 'output shape', 'output', 'params', 'MACs', 'int MACs', 'flags'], rows, new Set([0, 4, 5, 6, 7])));
    const m = report.model;
    const steps = report.layers.reduce((sum, l) => sum + l.steps.length, 0);
    print(
      `\n${path.basename(m.path)}: ${m.layers} layers` +
        (m.weightOnlyNodes ? ` (${m.nodes} nodes; ${m.weightOnlyNodes} compute weights only and are folded into the layers that read them)` : '') +
        (steps ? `, ${steps} QuantizeLinear/DequantizeLinear steps inside layers` : '') +
        `, ${formatCount(m.params)} parameters (${formatBytes(m.paramBytes)}), ${formatCount(m.macs)} MACs (${formatCount(m.intMacs)} integer, ${formatCount(m.floatMacs)} float)` +
        (m.unknownMacLayers ? ` (${m.unknownMacLayers} layers with unknown MACs)` : '') +
        `, IR ${m.irVersion}, opset ${m.opset}`
    );
  });

addNetworkOptions(addModelOptions(program.command('plan').argument('<model>', 'ONNX file').description('cost of every split point and the best one')))
  .option('--dag', 'also compute the optimal DAG partition (minimum s-t cut)')
  .option('--encoding <auto|fp32|fp16|int8|uint8|jpeg[+deflate]>', 'choose (cut, encoding) together: encodings measured on sample inputs at the candidate cuts (default: fp32, today\'s plan alone)')
  .option('--min-agreement <percent>', 'accuracy bound for --encoding: top-1 agreement with the unsplit model, %', positiveNumber('--min-agreement'), 99)
  .option('--samples <n>', 'sample inputs the agreement is measured on', positiveInteger('--samples'), 32)
  .option('--json', 'machine-readable output')
  .action(async (model: string, options: ModelOptions & NetworkCliOptions & { dag?: boolean; json?: boolean; encoding?: string; minAgreement: number; samples: number }) => {
    if (options.encoding !== undefined && options.encoding !== 'auto') {
      try {
        parseWireEncoding(options.encoding);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
    }
    if (options.minAgreement > 100) throw new UsageError(`--min-agreement is a percentage 0..100, got ${options.minAgreement}`);
    const analyzed = await openModelForCli(model, options);
    const request = await planRequest(analyzed, options, Boolean(options.dag));
    const plan = planModel(analyzed, request);
    const encoded =
      options.encoding === undefined
        ? undefined
        : await planEncoded(analyzed, buildCutTable(partitionProblem(analyzed, request)), planOptions(request), request.objective, {
            encoding: options.encoding,
            minAgreement: options.minAgreement / 100,
            samples: options.samples,
            dimValues: resolvedDims(analyzed),
            log: options.json ? undefined : (line) => process.stderr.write(`${line}\n`)
          });
    if (options.json) return print(JSON.stringify(encoded ? { ...plan, encoded: { chosen: encoded.choice.best, considered: encoded.choice.considered, excluded: encoded.choice.excluded, decisionTable: encoded.decisionTable, measurements: encoded.evaluations.flatMap((e) => e.measurements), samples: encoded.samples, minAgreement: encoded.minAgreement } } : plan, null, 2));
    const layers = analyzed.analysis.layers;
    const rows = plan.cuts.map((c) => [
      `${c.cut === plan.best.latency ? '★' : ' '}${c.cut === plan.best.energy ? '⚡' : ' '}${c.cut}`,
      c.cut === 0 ? '(cloud only)' : c.cut === layers.length ? '(device only)' : `after ${layers[c.cut - 1].name}`,
      formatBytes(c.uploadBytes),
      formatMs(c.localMs),
      formatMs(c.uploadMs),
      formatMs(c.remoteMs),
      formatMs(c.downloadMs),
      formatMs(c.totalMs),
      c.energyMJ.toFixed(1)
    ]);
    print(table(['cut', 'split', 'upload', 'local ms', 'up ms', 'remote ms', 'down ms', 'total ms', 'energy mJ'], rows, new Set([2, 3, 4, 5, 6, 7, 8])));
    const n = plan.network;
    print(
      `\nnetwork ${n.name}: up ${n.uplinkMbps} Mbps, down ${n.downlinkMbps} Mbps, RTT ${n.rttMs} ms; server load K=${plan.serverLoad}\n` +
        `device latencies ${plan.latencies.local}; server latencies ${plan.latencies.remote}; power: ${plan.power.profile}`
    );
    print(`★ best for latency: cut ${plan.best.latency}   ⚡ best for energy: cut ${plan.best.energy}`);
    if (plan.dag) print(`DAG min-cut: ${plan.dag.localNodes.length} nodes local, ${formatMs(plan.dag.totalMs)} ms total (${plan.dag.energyMJ.toFixed(1)} mJ)`);
    if (encoded) {
      const rows = encoded.evaluations.flatMap((e) =>
        e.measurements.map((m) => [
          `${m.cut === encoded.choice.best.cut && m.encoding === encoded.choice.best.encoding ? '★' : ' '}${m.cut}`,
          m.encoding,
          m.skipped ? 'skipped' : formatBytes(m.uploadBytes),
          m.skipped ? '' : `${formatMs(m.encodeMs)}/${formatMs(m.decodeMs)}`,
          m.agreement === null ? '' : `${(m.agreement * 100).toFixed(1)} %`,
          m.skipped ? m.skipped : (m.maxAbsError ?? 0).toPrecision(3),
          encoded.choice.considered.find((c) => c.cut === m.cut && c.encoding === m.encoding)?.totalMs.toFixed(1) ?? '-'
        ])
      );
      print(`\n(cut, encoding) measured on ${encoded.samples} sample inputs; bound: top-1 agreement ≥ ${(encoded.minAgreement * 100).toFixed(1)} %`);
      print(table(['cut', 'encoding', 'wire', 'enc/dec ms', 'agreement', 'max abs err', 'total ms'], rows, new Set([2, 3, 4, 6])));
      const best = encoded.choice.best;
      print(`★ best (cut, encoding): cut ${best.cut} in ${best.encoding}, ${formatMs(best.totalMs)} ms (fp32 best: cut ${plan.best.latency}, ${formatMs(plan.cuts[plan.best.latency].totalMs)} ms)`);
      print(`decision table (${request.objective}, uplink Mbps → cut, encoding):`);
      for (const row of encoded.decisionTable) print(`  ${row.fromMbps.toPrecision(4)} – ${row.toMbps.toPrecision(4)}: cut ${row.cut}, ${row.encoding}`);
    }
  });

addNetworkOptions(addModelOptions(program.command('split').argument('<model>', 'ONNX file').description('write head.onnx, tail.onnx and partition.json')))
  .requiredOption('--cut <k|auto|dag>', 'number of nodes run on the device, "auto" for the best topological cut, "dag" for the min-cut partition')
  .requiredOption('--out <dir>', 'output folder')
  .option('--force', 'overwrite existing files in the output folder')
  .action(async (model: string, options: ModelOptions & NetworkCliOptions & { cut: string; out: string; force?: boolean }) => {
    checkOutputLocation(options.out);
    const analyzed = await openModelForCli(model, options);
    const written = writeSplit(analyzed, {
      cut: options.cut,
      outDir: options.out,
      force: Boolean(options.force),
      request: await planRequest(analyzed, options, options.cut === 'dag')
    });
    for (const file of written.files) print(`wrote ${file}`);
    print(`cut ${written.partition.cut ?? 'dag'}: ${written.partition.localNodes.length} of ${analyzed.analysis.layers.length} nodes on the device, ${written.partition.crossing.length} tensors cross (${formatBytes(written.partition.uploadBytes)})`);
  });

/** A progress line on stderr: redrawn in place on a terminal, one line per phase otherwise. */
function progressReporter(): { update: (label: string, done: number, total: number) => void; end: () => void } {
  const tty = process.stderr.isTTY;
  let lastLabel = '';
  return {
    update(label, done, total) {
      if (tty) {
        const width = 24;
        const filled = total > 0 ? Math.round((done / total) * width) : 0;
        process.stderr.write(`\r${label.padEnd(14)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} `);
      } else if (label !== lastLabel) {
        process.stderr.write(`${label}…\n`);
      }
      lastLabel = label;
    },
    end() {
      if (tty) process.stderr.write('\n');
    }
  };
}

/** An AbortSignal that Ctrl-C (SIGINT) fires once; the second Ctrl-C exits at once. */
function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  process.once('SIGINT', () => {
    controller.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  return controller.signal;
}

const percent = (x: number | null): string => (x === null ? '–' : `${(x * 100).toFixed(1)} %`);

/** The device profile's per-type cross-validated error and samples (characterize's report). */
function typeErrorTable(errors: readonly LayerTypeError[]): string {
  const rows = errors.map((e) => [e.level === 'all' ? `${e.layerType} @all` : e.layerType, String(e.samples), String(e.adaptiveSamples), percent(e.medianError), percent(e.meanError), percent(e.corrected?.medianError ?? null)]);
  return table(['layer type', 'samples', 'adaptive', 'cv median error', 'cv mean error', 'locally corrected (cv median)'], rows, new Set([1, 2, 3, 4, 5]));
}

/** Per layer type of a prediction: its predicted time and how far the device profile says that type's predictions may be off. */
function predictionErrorTable(profile: LatencyProfile): string {
  const rows = (profile.predictionErrors ?? []).map((e) => [
    e.layerType,
    String(e.layers),
    formatMs(e.predictedMs),
    percent(e.share),
    percent(e.medianError),
    e.samples === null ? '–' : String(e.samples)
  ]);
  return table(['layer type', 'layers', 'predicted ms', 'share', 'expected error (cv median)', 'samples'], rows, new Set([1, 2, 3, 4, 5]));
}

function layerTable(profile: LatencyProfile): string {
  const rows = profile.layers.map((l) => [
    String(l.index),
    l.name,
    l.op,
    profile.predicted ? `${l.method ?? ''}${l.kernel ? ` · ${l.kernel}` : ''}` : (l.provider ?? (l.attribution === 'folded' ? 'folded' : '?')).replace('ExecutionProvider', ''),
    formatMs(l.medianMs),
    profile.predicted ? '' : formatMs(l.p10Ms),
    profile.predicted ? '' : formatMs(l.p90Ms),
    formatBytes(l.outputBytes)
  ]);
  return table(['#', 'name', 'op', profile.predicted ? 'method' : 'provider', 'median ms', 'p10 ms', 'p90 ms', 'output'], rows, new Set([0, 4, 5, 6, 7]));
}

addModelOptions(program.command('profile').argument('<model>', 'ONNX file').description('measure per-layer latency with onnxruntime on this machine'))
  .addOption(new Option('--ep <provider>', 'execution provider').choices([...EXECUTION_PROVIDERS]).default('cpu'))
  .option('--runs <n>', 'timed runs', positiveInteger('--runs'), DEFAULT_PROFILE_RUNS)
  .option('--warmup <n>', 'untimed runs first', nonNegativeInteger('--warmup'), DEFAULT_PROFILE_WARMUP)
  .option('--min-time-ms <ms>', 'more timed runs where they are fast, until they take this long (at most 1000 runs)', nonNegativeInteger('--min-time-ms'), 0)
  .addOption(
    new Option('--optimization <level>', "onnxruntime graph optimisation: 'all' as the executor serves (fused kernels attributed to the nodes they replaced), 'disabled' as characterisation measures")
      .choices(['disabled', 'all'])
      .default(DEFAULT_GRAPH_OPTIMIZATION)
  )
  .option('--fallback-cpu', 'run on CPU when the provider is not available here')
  .option('--input <name=file...>', 'model input from a .npy or ONNX TensorProto (.pb) file; others are generated')
  .option('--seed <n>', 'seed of generated inputs', (v) => Number(v), 42)
  .option('--out <file>', 'write the profile JSON here (atomically)')
  .option('--json', 'print the profile JSON')
  .option('--device-executor <url>', 'profile on this (device) executor instead of this machine: the model is sent to it once; --ep, --fallback-cpu and --input do not apply')
  .option('--device-token <token>', 'bearer token the device executor was started with')
  .addOption(new Option('--progress-json', 'progress as JSON lines on stderr (for the processes that run this command)').hideHelp())
  .action(
    async (
      modelPath: string,
      options: ModelOptions & {
        ep: ExecutionProviderName;
        runs: number;
        warmup: number;
        minTimeMs: number;
        optimization: GraphOptimization;
        fallbackCpu?: boolean;
        input?: string[];
        seed: number;
        out?: string;
        json?: boolean;
        deviceExecutor?: string;
        deviceToken?: string;
        progressJson?: boolean;
      }
    ) => {
      if (options.out) checkOutputLocation(options.out);
      const analyzed = await openModelForCli(modelPath, options);
      const dimValues = resolvedDims(analyzed);
      if (options.deviceExecutor) {
        if (options.input?.length) throw new UsageError('--input files are not sent to a device executor: it profiles with generated inputs');
        const device = new ExecutorClient({ url: options.deviceExecutor, token: options.deviceToken, role: 'device executor' });
        try {
          const profile = await profileOn(device, analyzed, { runs: options.runs, warmup: options.warmup, minMeasureMs: options.minTimeMs });
          if (options.out) writeProfileFile(options.out, profile);
          if (options.json) return print(JSON.stringify(profile, null, 2));
          print(layerTable(profile));
          print(`\n${profile.ep} on ${profile.device.cpu} (${profile.device.hostname}, device executor ${device.url}), ${profileSettings(profile)}: whole model ${formatMs(profile.wholeModelMs ?? 0)} ms` + (options.out ? `\nwrote ${options.out}` : ''));
          return;
        } finally {
          device.close();
        }
      }
      const inputs = await loadInputs(analyzed.model, parseInputPairs(options.input ?? []), { seed: options.seed, dimValues });
      const progress = options.progressJson ? { update: (phase: ProfilePhase, done: number, total: number) => process.stderr.write(progressLine({ phase, done, total })), end: () => undefined } : progressReporter();
      const profile = await profileModel(analyzed, {
        ep: options.ep,
        runs: options.runs,
        warmup: options.warmup,
        minMeasureMs: options.minTimeMs,
        optimization: options.optimization,
        allowCpuFallback: Boolean(options.fallbackCpu),
        inputs,
        dimValues,
        signal: interruptSignal(),
        onProgress: (e) => progress.update(e.phase, e.done, e.total)
      }).finally(() => progress.end());
      if (profile.fallbackReason) process.stderr.write(`neurosurgeon: warning: ran on cpu: ${profile.fallbackReason}\n`);
      const unstable = instabilityWarning(profile);
      if (unstable) process.stderr.write(`neurosurgeon: warning: ${unstable}\n`);
      if (options.out) writeProfileFile(options.out, profile);
      if (options.json) return print(JSON.stringify(profile, null, 2));
      print(layerTable(profile));
      const gap = profile.wholeModelMs ? profile.sumOfMediansMs / profile.wholeModelMs : NaN;
      print(
        `\n${profile.ep} on ${profile.device.cpu}, ${profileSettings(profile)}: whole model ${formatMs(profile.wholeModelMs ?? 0)} ms (typical of ${profile.runs} runs, p90/p10 ${(wholeRunSpread(profile) ?? NaN).toFixed(2)}), ` +
          `sum of per-layer medians ${formatMs(profile.sumOfMediansMs)} ms (${gap.toFixed(3)}×)` +
          (options.out ? `\nwrote ${options.out}` : '')
      );
    }
  );

addModelOptions(program.command('predict').argument('<model>', 'ONNX file').description("predict per-layer latency from a device profile, without running the model"))
  .requiredOption('--device <file>', 'device profile JSON from `neurosurgeon characterize`')
  .option('--out <file>', 'write the predicted profile JSON here (atomically)')
  .option('--json', 'print the predicted profile JSON')
  .addOption(new Option('--optimization <level>', "graph optimisation the prediction is for: 'all' (the executor's; layers grouped into the kernels onnxruntime fuses) or 'disabled'").choices(['all', 'disabled']).default(DEFAULT_GRAPH_OPTIMIZATION))
  .action(async (modelPath: string, options: ModelOptions & { device: string; out?: string; json?: boolean; optimization: GraphOptimization }) => {
    if (options.out) checkOutputLocation(options.out);
    const analyzed = await openModelForCli(modelPath, options);
    const { profile } = await latenciesFromFile(analyzed, options.device, { optimization: options.optimization });
    if (!profile?.predicted) throw new UsageError(`${options.device} is a measured profile; predict takes a device profile from \`neurosurgeon characterize\``);
    if (options.out) writeProfileFile(options.out, profile);
    const mismatch = threadsMismatch(profile, path.basename(options.device), intraOpThreads());
    if (mismatch) process.stderr.write(`neurosurgeon: warning: ${mismatch}\n`);
    if (options.json) return print(JSON.stringify(profile, null, 2));
    print(layerTable(profile));
    print('');
    print(predictionErrorTable(profile));
    const fallback = profile.layers.filter((l) => l.method === 'roofline');
    const eliminated = profile.layers.filter((l) => l.kernel === ELIMINATED_KERNEL).length;
    const fused = profile.layers.filter((l) => l.kernel !== undefined && l.kernel !== ELIMINATED_KERNEL).length;
    print(
      `\npredicted whole model ${formatMs(wholeModelEstimateMs(profile))} ms on ${profile.ep} (layers ${formatMs(profile.sumOfMediansMs)} ms + per run ${formatMs(profile.runOverheadMs ?? 0)} ms; ${profileSettings(profile)}; compare with profile --optimization ${profile.graphOptimization})` +
        (fused ? `; ${fused} layers run in fused kernels` : '') +
        (eliminated ? `; ${eliminated} layers onnxruntime removes before running (no kernel)` : '') +
        (fallback.length ? `; ${fallback.length} layers of unmodelled types predicted by roofline (${[...new Set(fallback.map((l) => l.op))].join(', ')})` : '') +
        (options.out ? `\nwrote ${options.out}` : '')
    );
  });

program
  .command('characterize')
  .description("sweep single-layer models to fit this device's per-layer-type latency models (resumable)")
  .addOption(new Option('--ep <provider>', 'execution provider').choices([...EXECUTION_PROVIDERS]).default('cpu'))
  .option('--budget-s <s>', 'time budget in seconds', positiveNumber('--budget-s'), 300)
  .requiredOption('--out <file>', 'device profile JSON to write (an existing one for this device and provider is resumed)')
  .option('--no-resume', 'start over even if --out holds a partial sweep')
  .option('--device-executor <url>', 'characterise the machine of this (device) executor instead of this one (a fresh sweep there, no resume; --ep is its own)')
  .option('--device-token <token>', 'bearer token the device executor was started with')
  .option('--debug', 'print stack traces on errors')
  .action(async (options: { ep: ExecutionProviderName; budgetS: number; out: string; resume: boolean; deviceExecutor?: string; deviceToken?: string }) => {
    checkOutputLocation(options.out);
    const progress = progressReporter();
    const profile = options.deviceExecutor
      ? await characterizeOnDevice(options.deviceExecutor, options.deviceToken, options.budgetS, options.out)
      : await characterizeDevice({
      ep: options.ep,
      budgetS: options.budgetS,
      outFile: options.out,
      resume: options.resume,
      signal: interruptSignal(),
      onProgress: (e) => {
        if (e.note) process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}neurosurgeon: ${e.note}\n`);
        else progress.update(e.layerType, e.done, e.total);
      }
    }).finally(() => progress.end());
    const rows = profile.fits.map((f) => [f.level === 'all' ? `${f.layerType} @all` : f.layerType, f.form, f.features.join(', '), String(f.samples), f.r2.toFixed(3)]);
    print(table(['layer type', 'fit', 'features', 'samples', 'R²'], rows, new Set([3, 4])));
    print('');
    print(typeErrorTable(profile.typeErrors ?? []));
    const reorder = profile.nchwcLayout?.reorder;
    if (profile.nchwcLayout) {
      print(
        `\nblocked layout: ${profile.nchwcLayout.blockSize} channels a block, alignment ${profile.nchwcLayout.channelAlignment}; ` +
          (reorder ? `a layout reorder costs ${reorder.interceptMs.toFixed(4)} ms + ${(reorder.msPerByte * 2 ** 20).toFixed(3)} ms per MiB written (${reorder.samples} timed)` : 'no layout reorders timed yet')
      );
    }
    if (profile.shapeArithmeticMsPerKernel !== undefined) {
      print(`\nshape arithmetic (Shape, Gather, Concat, … on a few integers): ${(profile.shapeArithmeticMsPerKernel * 1000).toFixed(3)} µs a kernel inside a network`);
    }
    if (profile.loneKernelExcessMs !== undefined) {
      print(`\na kernel timed alone: ${(profile.loneKernelExcessMs * 1000).toFixed(3)} µs more than inside a network (kept on the first predicted layer of each op in a run, taken off the others, shared among the copies the sweep timed)`);
    }
    const contextLine = (factors: DeviceProfile['contextFactors']): string =>
      Object.entries(factors ?? {})
        .sort((a, b) => (b[1]?.factor ?? 1) - (a[1]?.factor ?? 1))
        .map(([type, entry]) => `${type} ×${(entry?.factor ?? 1).toFixed(2)} (${entry?.sizeFeature} ≤ ${formatCount(entry?.upTo ?? 0)})`)
        .join(', ');
    if (Object.keys(profile.contextFactors ?? {}).length > 0) {
      print(`\ninside a network (predictions multiply each layer of the type up to the size found by it): ${contextLine(profile.contextFactors)}`);
    }
    if (Object.keys(profile.contextFactorsAtAll ?? {}).length > 0) {
      print(`inside a full-size network at 'all' (these types take this factor there instead): ${contextLine(profile.contextFactorsAtAll)}`);
    }
    print(
      `\n${profile.configurations} configurations in ${profile.elapsedS.toFixed(0)} s${profile.complete ? ' (grid complete)' : ' (budget spent; run again to continue)'}; wrote ${options.out}`
    );
  });

program
  .command('refit')
  .argument('<device>', 'device profile JSON from `neurosurgeon characterize`')
  .description("fit a device profile's sweep samples again with this version's regression, and its context factors against the new fits (nothing is timed)")
  .requiredOption('--out <file>', 'device profile JSON to write (may be the one read)')
  .option('--debug', 'print stack traces on errors')
  .action(async (file: string, options: { out: string }) => {
    checkOutputLocation(options.out);
    const before = await readDeviceProfile(file);
    const { profile, contextRefound } = await refitDeviceProfile(before, file);
    writeFileAtomic(options.out, `${JSON.stringify(profile, null, 1)}\n`);
    const key = (e: LayerTypeError): string => `${e.layerType} ${e.level ?? 'disabled'}`;
    const old = new Map((before.typeErrors ?? []).map((e) => [key(e), e]));
    const rows = (profile.typeErrors ?? []).map((e) => [e.level === 'all' ? `${e.layerType} @all` : e.layerType, String(e.samples), percent(old.get(key(e))?.medianError ?? null), percent(e.medianError), percent(old.get(key(e))?.meanError ?? null), percent(e.meanError)]);
    print(table(['layer type', 'samples', 'cv median before', 'cv median now', 'cv mean before', 'cv mean now'], rows, new Set([1, 2, 3, 4, 5])));
    const kept = (['disabled', 'all'] as const).filter((level) => !contextRefound.includes(level) && (level === 'disabled' ? before.contextFactors : before.contextFactorsAtAll));
    print(
      `\n${profile.fits.length} fits from ${profile.samples?.length ?? 0} samples` +
        (contextRefound.length > 0 ? `; context factors found again at ${contextRefound.join(' and ')}` : '') +
        (kept.length > 0 ? `; context factors at ${kept.join(' and ')} kept as they were (the profile keeps no calibration times for them)` : '') +
        `; wrote ${options.out}`
    );
  });

program
  .command('fusion-rules')
  .description("test which node patterns this onnxruntime fuses into one kernel, at each optimisation level (the rules prediction uses)")
  .option('--out <file>', 'rules JSON to write', defaultFusionRulesFile())
  .option('--debug', 'print stack traces on errors')
  .action(async (options: { out: string }) => {
    checkOutputLocation(options.out);
    const rules = await probeFusionRules();
    writeFileAtomic(options.out, `${JSON.stringify(rules, null, 1)}\n`);
    const rows = Object.entries(rules.levels).flatMap(([level, list]) => (list ?? []).map((r) => [level, r.id, r.fused ? 'fused' : 'no', r.kernels.join(' ')]));
    print(table(['level', 'pattern', 'fused', 'kernels that ran'], rows, new Set()));
    print(`\nonnxruntime ${rules.runtime} (${rules.ep}); wrote ${options.out}`);
  });

program
  .command('providers')
  .description('execution providers of this installation and whether they work here')
  .option('--json', 'machine-readable output')
  .action(async (options: { json?: boolean }) => {
    const providers = await listProviders();
    if (options.json) return print(JSON.stringify(providers, null, 2));
    print(table(['provider', 'available', 'note'], providers.map((p) => [p.name, p.available ? 'yes' : 'no', p.reason ?? ''])));
  });

program
  .command('zoo')
  .description('write the sample models (generated, deterministic; large ones on demand)')
  .option('--out <dir>', 'output folder', defaultZooDir())
  .option('--only <ids...>', 'only these models')
  .option('--skip-large', 'skip models of 100 MB or more')
  .option('--force', 'regenerate even if up to date')
  .option('--seed <n>', 'weight seed', (v) => Number(v), 1)
  .option('--quantized', 'also write the quantized test models: QDQ and QOperator twins of lenet, squeezenet1.1, mobilenet-v2 and the real ShuffleNetV2 export, with their top-1 agreement (quantized.json)')
  .option('--debug', 'print stack traces on errors')
  .action(async (options: { out: string; only?: string[]; skipLarge?: boolean; force?: boolean; seed: number; quantized?: boolean }) => {
    checkOutputLocation(options.out);
    writeZoo({
      outDir: options.out,
      only: options.only?.flatMap((v) => v.split(',')),
      skipLarge: options.skipLarge,
      force: options.force,
      seed: options.seed,
      onProgress: (e) =>
        process.stderr.write(
          `[${e.index + 1}/${e.total}] ${e.id}: ${e.status === 'kept' ? 'up to date' : `written in ${(e.ms / 1000).toFixed(1)} s`} (${formatBytes(e.bytes)})\n`
        )
    });
    if (options.quantized) {
      await writeQuantizedModels({
        outDir: options.out,
        force: options.force,
        onProgress: (e) =>
          process.stderr.write(
            `[${e.index + 1}/${e.total}] ${e.id}: ${e.status === 'kept' ? 'up to date' : `written in ${(e.ms / 1000).toFixed(1)} s`} (${formatBytes(e.entry.bytes)}, top-1 agreement ${e.entry.top1.agreeing}/${e.entry.top1.samples})\n`
          )
      });
    }
    print(`models in ${options.out}`);
  });

registerStudioCommands(program);
registerRunCommands(program);
registerExecutorCommands(program);
registerExportCommand(program, { addModelOptions, addNetworkOptions, planRequest });
registerQuantizeCommand(program);
registerFleetCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') process.exit(0);
    process.exit(2);
  }
  reportAndExit(error, debug);
}
