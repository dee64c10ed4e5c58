// The CLI's `run` and `sweep` commands: real split runs against a remote executor (the
// head here — or on a device executor, `--device-executor`, which sends its output to the
// server itself — the tail there, tensors through a link shaped to a network preset), and
// sweeps of many cuts that set the measured totals beside the predicted ones. The work is
// in split-run.ts and sweep.ts; this file parses options and prints. `--encoding` sends the
// crossing tensors in a wire encoding (chosen with the cut by `auto`, as `plan --encoding`
// chooses) and prints the measured time beside the predicted one, the bytes on the wire and
// the agreement measured on sample inputs.
import path from 'node:path';
import { Command, Option } from 'commander';
import { EXECUTION_PROVIDERS, type ExecutionProviderName } from '../../app/profiling/types.js';
import type { Objective } from '../../app/partition/types.js';
import { resolvedDims } from '../model/analyze-file.js';
import { openModelForCli } from './open-model.js';
import { UsageError } from '../errors/user-errors.js';
import { positiveInteger, positiveNumber, print } from './options.js';
import { ExecutorClient } from '../executor/client.js';
import type { LinkShaper } from '../executor/link.js';
import { formatBytes, formatMs, table } from './format.js';
import { resolveLink, type NetworkRequest } from '../split/split-prediction.js';
import type { RemoteExecutor } from '../executor/remote-executor.js';
import { runSplit, SplitRunError, type SplitRunReport, type SplitRunTiming } from '../split/split-run.js';
import { NOT_REACHED, sweepModel, SweepInterruptedError, type SweepEncoded, type SweepResult } from '../split/sweep.js';

interface CommonOptions {
  executor: string;
  token?: string;
  deviceExecutor?: string;
  deviceToken?: string;
  timeoutMs?: number;
  network: string;
  uplinkMbps?: number;
  downlinkMbps?: number;
  rttMs?: number;
  runs: number;
  ep: ExecutionProviderName;
  fallbackCpu?: boolean;
  local?: string;
  remote?: string;
  deviceSlowdown: number;
  seed: number;
  dim?: string[];
  json?: boolean;
  encoding?: string;
  minAgreement: number;
  samples: number;
}

function note(message: string): void {
  process.stderr.write(`neurosurgeon: ${message}\n`);
}

function executorUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--executor expects a URL such as http://127.0.0.1:8000, got "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--executor must be an http:// or https:// URL, got "${value}"`);
  return value;
}

function addCommonOptions(command: Command): Command {
  return command
    .requiredOption('--executor <url>', 'executor base URL (`neurosurgeon executor` prints it)', executorUrl)
    .option('--token <token>', 'bearer token the executor was started with')
    .option('--device-executor <url>', 'run the head on this executor (started with --upstream set to --executor): it sends its output to the server itself', executorUrl)
    .option('--device-token <token>', 'bearer token the device executor was started with')
    .option('--timeout-ms <ms>', 'give up on an executor call after this long without a byte moving (default 120000): a frozen executor ends the command within it, plus 2 s', positiveNumber('--timeout-ms'))
    .option('--uplink-mbps <x>', 'uplink bandwidth, Mbps (overrides the preset)', positiveNumber('--uplink-mbps'))
    .option('--downlink-mbps <y>', 'downlink bandwidth, Mbps (overrides the preset)', positiveNumber('--downlink-mbps'))
    .option('--rtt-ms <z>', 'round-trip time, ms (overrides the preset)', (v) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new UsageError(`--rtt-ms must be a number ≥ 0, got "${v}"`);
      return n;
    })
    .option('--runs <n>', 'timed runs per cut (after one warm-up run)', positiveInteger('--runs'), 5)
    .addOption(new Option('--ep <provider>', 'execution provider of the device part').choices([...EXECUTION_PROVIDERS]).default('cpu'))
    .option('--fallback-cpu', 'run on CPU when the provider is not available here')
    .option('--local <file>', 'device latencies for the prediction from this profile (profile or characterize) instead of profiling now')
    .option('--remote <file>', "server latencies for the prediction from this profile instead of the executor's own profile")
    .option('--device-slowdown <f>', 'emulate a device f× slower than this machine: head runs are stretched and the prediction knows it', positiveNumber('--device-slowdown'), 1)
    .option('--seed <n>', 'seed of the generated inputs', (v) => Number(v), 42)
    .option('--dim <name=size...>', 'value of a symbolic dimension (default: 1)')
    .option('--encoding <auto|fp32|fp16|int8|uint8[+deflate]>', 'send the crossing tensors in this wire encoding (int8/fp16 in the head and tail graphs, +deflate as HTTP Content-Encoding); auto: chosen as plan --encoding auto chooses')
    .option('--min-agreement <percent>', 'accuracy bound for --encoding: top-1 agreement with the unsplit model, %', percentage('--min-agreement'), 99)
    .option('--samples <n>', 'sample inputs the --encoding agreement is measured on', positiveInteger('--samples'), 32)
    .option('--json', 'machine-readable output')
    .option('--debug', 'print stack traces on errors');
}

/** What `run` and `sweep` ask of the split machinery alike, from their common options. */
function commonRequest(options: CommonOptions, dimValues: Record<string, number>) {
  return {
    runs: options.runs,
    ep: options.ep,
    allowCpuFallback: Boolean(options.fallbackCpu),
    localFile: options.local,
    remoteFile: options.remote,
    deviceSlowdown: options.deviceSlowdown,
    seed: options.seed,
    dimValues,
    device: deviceExecutor(options),
    onProgress: note,
    ...(options.encoding !== undefined ? { encoding: options.encoding, minAgreement: options.minAgreement / 100, samples: options.samples } : {})
  };
}

/** A percentage 0..100 (the accuracy bound), refused in one line otherwise. */
function percentage(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0 || n > 100) throw new UsageError(`${flag} is a percentage 0..100, got "${value}"`);
    return n;
  };
}

/** The device executor of --device-executor (failures name it "device executor URL"). */
function deviceExecutor(options: CommonOptions): ExecutorClient | undefined {
  if (!options.deviceExecutor) return undefined;
  return new ExecutorClient({ url: options.deviceExecutor, token: options.deviceToken, timeoutMs: options.timeoutMs, role: 'device executor' });
}

function connector(options: CommonOptions): (shaper?: LinkShaper) => RemoteExecutor {
  return (shaper) => new ExecutorClient({ url: options.executor, token: options.token, timeoutMs: options.timeoutMs, shaper });
}

function networkRequest(options: CommonOptions): NetworkRequest {
  return { name: options.network, uplinkMbps: options.uplinkMbps, downlinkMbps: options.downlinkMbps, rttMs: options.rttMs };
}

function parseCut(value: string): number | 'auto' | 'dag' {
  if (value === 'auto' || value === 'dag') return value;
  if (!/^\d+$/.test(value)) throw new UsageError(`--cut expects a number, "auto" or "dag", got "${value}"`);
  return Number(value);
}

function splitLabel(cut: number, nodeCount: number, layerNames: string[]): string {
  if (cut === 0) return 'cloud only';
  if (cut === nodeCount) return 'device only';
  return `after ${layerNames[cut - 1]}`;
}

function timingRow(label: string, t: SplitRunTiming): string[] {
  return [label, formatMs(t.localMs), formatMs(t.encodeMs), formatMs(t.uploadMs), t.remoteMs === null ? '?' : formatMs(t.remoteMs), formatMs(t.downloadMs), formatMs(t.totalMs), formatBytes(t.bytesUp), formatBytes(t.bytesDown)];
}

function printRun(report: SplitRunReport, layerNames: string[]): void {
  const n = report.network;
  const what =
    report.cut === 'dag'
      ? `the DAG min-cut partition (${report.localLayers.length} of ${report.nodes} layers on the device)`
      : `cut ${report.cut} of ${report.nodes} (${splitLabel(report.cut, report.nodes, layerNames)})`;
  print(`${report.model}: ${what}, chosen by ${report.chosenBy}`);
  print(
    `network ${n.name}: up ${n.uplinkMbps} Mbps, down ${n.downlinkMbps} Mbps, RTT ${n.rttMs} ms${n.shaped ? ' (shaped)' : ' (not shaped)'}; device part ${report.deviceExecutor ? `on the device executor ${report.deviceExecutor} (its link to the server shaped)` : `on ${report.ep}`}` +
      (report.deviceSlowdown !== 1 ? `, emulated ${report.deviceSlowdown}× slower` : '')
  );
  if (report.decision) {
    const d = report.decision;
    const predicted = d.predicted;
    const cloud = predicted[0];
    const device = predicted[predicted.length - 1];
    const bestCut = [...predicted].sort((a, b) => a.totalMs - b.totalMs || a.cut - b.cut)[0];
    if (d.chosen === 'dag' && d.dag) {
      print(
        `the DAG min-cut for ${d.objective}: predicted ${formatMs(d.dag.totalMs)} ms, ${d.dag.energyMJ.toFixed(1)} mJ; ` +
          `best topological cut ${bestCut.cut} ${formatMs(bestCut.totalMs)} ms; cloud only ${formatMs(cloud.totalMs)} ms, device only ${formatMs(device.totalMs)} ms`
      );
    } else {
      const chosen = predicted[d.chosen as number];
      const others = [...predicted].filter((c) => c.cut !== d.chosen).sort((a, b) => a.totalMs - b.totalMs);
      print(
        `${report.chosenBy === 'auto' ? 'auto chose' : 'the given'} cut ${d.chosen} for ${d.objective}: predicted ${report.encoded ? 'in fp32 ' : ''}${formatMs(chosen.totalMs)} ms, ${chosen.energyMJ.toFixed(1)} mJ` +
          (others[0] ? `; runner-up cut ${others[0].cut} ${formatMs(others[0].totalMs)} ms` : '') +
          `; cloud only ${formatMs(cloud.totalMs)} ms, device only ${formatMs(device.totalMs)} ms`
      );
    }
    print(`server load K=${d.serverLoad.toFixed(2)}; device latencies ${d.latencies.local}; server latencies ${d.latencies.remote}`);
  }
  if (report.crossing.length > 0 && report.localLayers.length < report.nodes) print(`crossing: ${report.crossing.join(', ')}`);
  if (report.encoded) printEncodedChoice(report.encoded);
  const rows = report.runs.map((run, i) => timingRow(String(i + 1), run));
  rows.push(timingRow('median', report.median));
  print(table(['run', 'local ms', 'encode ms', 'up ms', 'remote ms', 'down ms', 'total ms', 'bytes up', 'bytes down'], rows, new Set([1, 2, 3, 4, 5, 6, 7, 8])));
  if (report.encoded) {
    const e = report.encoded;
    print(
      `in ${e.encoding}: measured ${formatMs(report.median.totalMs)} ms, predicted ${formatMs(e.predicted.totalMs)} ms; ` +
        `on the wire ${formatBytes(report.median.bytesUp)} per run (tensors ${formatBytes(e.predicted.uploadBytes)}, ${formatBytes(e.fp32UploadBytes)} in fp32); ` +
        `top-1 agreement ${e.agreement === null ? 'not measured' : `${(e.agreement * 100).toFixed(1)} %`} on ${e.samples} sample inputs` +
        (e.belowBound ? ` — BELOW the bound of ${(e.minAgreement * 100).toFixed(1)} %` : '')
    );
  }
  const check = report.outputCheck;
  if (check.mode === 'top1') {
    print(check.ok ? `outputs give the full local run's top-1 answer (max abs diff ${check.maxAbsDiff.toExponential(2)}, lossy encoding)` : `top-1 answer DIFFERS from the full local run on this input: ${check.mismatches.join(', ')} (max abs diff ${check.maxAbsDiff.toExponential(2)}, lossy encoding)`);
  } else {
    print(check.ok ? `outputs match the full local run (max abs diff ${check.maxAbsDiff.toExponential(2)})` : `outputs DIFFER from the full local run: ${check.mismatches.join(', ')} (max abs diff ${check.maxAbsDiff})`);
  }
}

/** How the encoding was chosen: the pair, the bound, and what auto left out (and why). */
function printEncodedChoice(e: NonNullable<SplitRunReport['encoded']>): void {
  const wire = e.wire.filter((w) => w.wireName !== w.name || w.encoding !== 'fp32');
  const asIs = e.wire.filter((w) => w.datatype === 'AS_IS').map((w) => w.name);
  print(
    `encoding ${e.encoding} (${e.requested === 'auto' ? 'chosen by auto' : 'as given'}${e.chosenBy === 'auto' ? `, within ${(e.minAgreement * 100).toFixed(1)} % top-1 agreement` : ''})` +
      (wire.length > 0 ? `; wire: ${wire.map((w) => `${w.name} as ${w.datatype}${w.scale !== undefined ? ` (scale ${w.scale.toPrecision(3)}, zero point ${w.zeroPoint})` : ''}`).join(', ')}` : '') +
      (asIs.length > 0 ? `; sent as they are: ${asIs.join(', ')}` : '')
  );
  if (e.chosenBy === 'auto' && e.excluded.length > 0) {
    for (const x of e.excluded) print(`  left out: ${x.reason}`);
  }
}

function printSweep(result: SweepResult, layerNames: string[], interrupted = false): void {
  const nodeCount = layerNames.length;
  const rows = result.cuts.map((c) => [
    `${c.cut === result.predictedBest ? 'P' : ' '}${c.cut === result.measuredBest ? '★' : ' '}${c.cut}`,
    splitLabel(c.cut, nodeCount, layerNames),
    formatMs(c.predictedMs),
    c.measuredMs === null ? (c.skipped === NOT_REACHED ? 'not reached' : `skipped (${c.skipped})`) : formatMs(c.measuredMs),
    formatMs(c.lowerBoundMs)
  ]);
  print(table(['cut', 'split', 'predicted ms', 'measured ms', 'transfer ≥ ms'], rows, new Set([2, 3, 4])));
  const n = result.network;
  print(
    `\n${result.model} over ${n.name} (up ${n.uplinkMbps} Mbps, down ${n.downlinkMbps} Mbps, RTT ${n.rttMs} ms${n.shaped ? ', shaped' : ''}${result.deviceExecutor ? `, heads on the device executor ${result.deviceExecutor}` : ''}); server load K=${result.serverLoad.toFixed(2)}\n` +
      `P predicted best: cut ${result.predictedBest}   ★ measured best${interrupted ? ' so far' : ''}: cut ${result.measuredBest}   ratio ${result.ratio.toFixed(3)}; ` +
      `median prediction error ${(result.predictionError * 100).toFixed(1)} %${result.outputsOk ? '' : '; some outputs DIFFER from the full local run'}`
  );
  if (result.encoded) printEncodedSweep(result.encoded, layerNames, interrupted);
  if (result.dag) {
    const d = result.dag;
    print(
      `DAG min-cut (${d.localLayers.length} of ${nodeCount} layers on the device): predicted ${formatMs(d.predictedMs)} ms, measured ${formatMs(d.measuredMs)} ms, ` +
        `${d.vsBestCut.toFixed(3)}× the measured best cut${d.outputOk ? '' : '; outputs DIFFER from the full local run'}`
    );
  }
}

function printEncodedSweep(e: SweepEncoded, layerNames: string[], interrupted: boolean): void {
  const rows = e.cuts.map((c) => [
    `${c.cut === e.predictedBest ? 'P' : ' '}${c.cut === e.measuredBest ? '★' : ' '}${c.cut}`,
    splitLabel(c.cut, layerNames.length, layerNames),
    c.encoding ?? '-',
    c.uploadBytes === null ? '' : formatBytes(c.uploadBytes),
    c.agreement === null ? '' : `${(c.agreement * 100).toFixed(1)} %`,
    c.predictedMs === null ? '' : formatMs(c.predictedMs),
    c.measuredMs !== null ? formatMs(c.measuredMs) : c.skipped === NOT_REACHED ? 'not reached' : `skipped (${c.skipped})`
  ]);
  print(`\nin ${e.requested === 'auto' ? `the best encoding per cut within ${(e.minAgreement * 100).toFixed(1)} % top-1 agreement` : e.requested} (agreement on ${e.samples} sample inputs):`);
  print(table(['cut', 'split', 'encoding', 'wire', 'agreement', 'predicted ms', 'measured ms'], rows, new Set([3, 4, 5, 6])));
  print(
    `P predicted best: cut ${e.predictedBest} in ${e.cuts.find((c) => c.cut === e.predictedBest)?.encoding ?? '-'}   ★ measured best${interrupted ? ' so far' : ''}: cut ${e.measuredBest} in ${e.cuts.find((c) => c.cut === e.measuredBest)?.encoding ?? '-'}   ` +
      `ratio ${e.ratio.toFixed(3)}; median prediction error ${(e.predictionError * 100).toFixed(1)} %; ${e.vsFp32.toFixed(3)}× the fp32 measured best` +
      (e.outputsOk ? '' : '; some top-1 answers DIFFER from the full local run')
  );
}

export function registerRunCommands(program: Command): void {
  addCommonOptions(
    program
      .command('run')
      .argument('<model>', 'ONNX file')
      .description('run a model split between this device and a remote executor, over a shaped network, and check the outputs')
  )
    .option('--network <name>', 'network preset the link is shaped to (wifi, lte, 3g, 5g, unshaped), or "measured": the live link, unshaped', 'wifi')
    .option('--cut <k|auto|dag>', 'number of layers run on the device, "auto" for the predicted best cut, or "dag" for the DAG min-cut partition', 'auto')
    .addOption(new Option('--objective <objective>', 'what --cut auto or dag minimises').choices(['latency', 'energy']).default('latency'))
    .action(async (model: string, options: CommonOptions & { cut: string; objective: Objective }) => {
      const cut = parseCut(options.cut);
      const analyzed = await openModelForCli(model, options);
      const dimValues = resolvedDims(analyzed);
      const report = await runSplit({
        analyzed,
        cut,
        objective: options.objective,
        network: networkRequest(options),
        ...commonRequest(options, dimValues),
        connect: connector(options)
      });
      if (options.json) {
        print(JSON.stringify(report, null, 2));
      } else {
        printRun(report, analyzed.analysis.layers.map((l) => l.name));
      }
      // A lossy encoding may change an answer (its agreement says how often): reported above, not a failure.
      if (!report.outputCheck.ok && report.outputCheck.mode !== 'top1') {
        throw new SplitRunError(`the split outputs differ from the full local run: ${report.outputCheck.mismatches.join(', ')} (max abs diff ${report.outputCheck.maxAbsDiff})`);
      }
    });

  addCommonOptions(
    program
      .command('sweep')
      .argument('<model>', 'ONNX file')
      .description('measure real split runs at many cuts beside the predicted totals: how good is the automatic choice?')
  )
    .requiredOption('--network <name>', 'network preset the link is shaped to (wifi, lte, 3g, 5g, unshaped), or "measured"')
    .option('--every <k>', 'sweep every k-th cut (0 and N always, and the predicted best)', positiveInteger('--every'), 1)
    .option('--prune', 'skip cuts whose shaped transfer time alone exceeds the best total measured so far')
    .option('--cut <dag>', '"dag": also run the DAG min-cut partition and compare it with the best cut', (value) => {
      if (value !== 'dag') throw new UsageError(`sweep --cut takes "dag" (the cuts swept are set by --every), got "${value}"`);
      return value;
    })
    .action(async (model: string, options: CommonOptions & { every: number; prune?: boolean; cut?: 'dag' }) => {
      const analyzed = await openModelForCli(model, options);
      const dimValues = resolvedDims(analyzed);
      const connect = connector(options);
      const link = await resolveLink(networkRequest(options), options.network === 'measured' ? connect() : null);
      const start = performance.now();
      let result: SweepResult;
      try {
        [result] = await sweepModel({
          analyzed,
          links: [link],
          every: options.every,
          prune: Boolean(options.prune),
          dag: options.cut === 'dag',
          ...commonRequest(options, dimValues),
          connect
        });
      } catch (error) {
        // A sweep cut short (a frozen or lost executor) still shows what it measured, then fails in one line.
        if (error instanceof SweepInterruptedError) {
          const [partial] = error.partial;
          if (options.json) print(JSON.stringify({ ...partial, interrupted: error.message }, null, 2));
          else printSweep(partial, analyzed.analysis.layers.map((l) => l.name), true);
        }
        throw error;
      }
      note(`swept ${path.basename(analyzed.path)} in ${((performance.now() - start) / 1000).toFixed(1)} s`);
      if (options.json) return print(JSON.stringify(result, null, 2));
      printSweep(result, analyzed.analysis.layers.map((l) => l.name));
    });
}
