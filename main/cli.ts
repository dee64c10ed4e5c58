// The `neurosurgeon` command line: the engine's work (analysis, planning, splitting, the
// sample zoo) for scripts and CI. Every failure is one line on stderr and exit code 2
// (cli-errors.ts); --json output is stable and documented in README.md.
import { Command, CommanderError, Option } from 'commander';
import path from 'node:path';
import { analyzeModelFile, type RuntimeShapeMode } from './analyze-file.js';
import { reportAndExit, UsageError } from './cli-errors.js';
import { formatBytes, formatCount, formatMs, table } from './format.js';
import { analysisReport } from './reports.js';
import { planModel, resolveNetwork, type PlanRequest } from './plan-service.js';
import { writeSplit } from './split-files.js';
import { defaultZooDir, toolVersion } from './paths.js';
import { writeZoo } from './zoo-files.js';
import { formatShape } from '../app/onnx/model.js';

const debug = process.argv.includes('--debug');

function parseDims(values: string[] | undefined): Record<string, number> {
  const dims: Record<string, number> = {};
  for (const value of values ?? []) {
    const match = /^([^=]+)=(\d+)$/.exec(value);
    if (!match) throw new UsageError(`--dim expects NAME=SIZE (e.g. batch=1), got "${value}"`);
    dims[match[1]] = Number(match[2]);
  }
  return dims;
}

function positiveNumber(name: string) {
  return (value: string): number => {
    const number = Number(value);
    if (!Number.isFinite(number) || number <= 0) throw new UsageError(`${name} must be a positive number, got "${value}"`);
    return number;
  };
}

function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

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
    .option('--device <preset>', 'device hardware preset for estimated latencies', 'mobile-cpu')
    .option('--server <preset>', 'server hardware preset for estimated latencies', 'server-gpu');
}

interface NetworkCliOptions {
  network: string;
  uplinkMbps?: number;
  downlinkMbps?: number;
  rttMs?: number;
  load: number;
  objective: 'latency' | 'energy';
  device: string;
  server: string;
}

function planRequest(options: NetworkCliOptions, dag: boolean): PlanRequest {
  return {
    network: resolveNetwork(options.network, { uplinkMbps: options.uplinkMbps, downlinkMbps: options.downlinkMbps, rttMs: options.rttMs }),
    serverLoad: options.load,
    objective: options.objective,
    devicePreset: options.device,
    serverPreset: options.server,
    dag
  };
}

const program = new Command();
program
  .name('neurosurgeon')
  .description('Neurosurgeon Studio: split a DNN between device and server for the lowest latency or device energy')
  .version(toolVersion())
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

addModelOptions(program.command('analyze').argument('<model>', 'ONNX file').description('per-layer shapes, bytes, parameters and MACs'))
  .option('--json', 'machine-readable output')
  .action(async (model: string, options: ModelOptions & { json?: boolean }) => {
    const analyzed = await analyzeModelFile(model, { dimValues: parseDims(options.dim), runtimeShapes: options.runtimeShapes });
    const report = analysisReport(analyzed);
    if (analyzed.runtimeShapeWarning) process.stderr.write(`neurosurgeon: warning: ${analyzed.runtimeShapeWarning}\n`);
    if (options.json) return print(JSON.stringify(report, null, 2));
    const rows = report.layers.map((l) => [
      String(l.index),
      l.name,
      l.op,
      l.outputs.map((o) => formatShape(o.shape)).join(' '),
      formatBytes(l.outputBytes),
      formatCount(l.params),
      formatCount(l.macs),
      l.flags.join(',')
    ]);
    print(table(['#', 'name', 'op', 'output shape', 'output', 'params', 'MACs', 'flags'], rows, new Set([0, 4, 5, 6])));
    const m = report.model;
    print(
      `\n${path.basename(m.path)}: ${m.nodes} nodes, ${formatCount(m.params)} parameters, ${formatCount(m.macs)} MACs` +
        (m.unknownMacLayers ? ` (${m.unknownMacLayers} layers with unknown MACs)` : '') +
        `, IR ${m.irVersion}, opset ${m.opset}`
    );
  });

addNetworkOptions(addModelOptions(program.command('plan').argument('<model>', 'ONNX file').description('cost of every split point and the best one')))
  .option('--dag', 'also compute the optimal DAG partition (minimum s-t cut)')
  .option('--json', 'machine-readable output')
  .action(async (model: string, options: ModelOptions & NetworkCliOptions & { dag?: boolean; json?: boolean }) => {
    const analyzed = await analyzeModelFile(model, { dimValues: parseDims(options.dim), runtimeShapes: options.runtimeShapes });
    const plan = planModel(analyzed, planRequest(options, Boolean(options.dag)));
    if (options.json) return print(JSON.stringify(plan, null, 2));
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
      `\nnetwork ${n.name}: up ${n.uplinkMbps} Mbps, down ${n.downlinkMbps} Mbps, RTT ${n.rttMs} ms; server load K=${plan.serverLoad}; latencies ${plan.latencySource}`
    );
    print(`★ best for latency: cut ${plan.best.latency}   ⚡ best for energy: cut ${plan.best.energy}`);
    if (plan.dag) print(`DAG min-cut: ${plan.dag.localNodes.length} nodes local, ${formatMs(plan.dag.totalMs)} ms total (${plan.dag.energyMJ.toFixed(1)} mJ)`);
  });

addNetworkOptions(addModelOptions(program.command('split').argument('<model>', 'ONNX file').description('write head.onnx, tail.onnx and partition.json')))
  .requiredOption('--cut <k|auto|dag>', 'number of nodes run on the device, "auto" for the best topological cut, "dag" for the min-cut partition')
  .requiredOption('--out <dir>', 'output folder')
  .option('--force', 'overwrite existing files in the output folder')
  .action(async (model: string, options: ModelOptions & NetworkCliOptions & { cut: string; out: string; force?: boolean }) => {
    const analyzed = await analyzeModelFile(model, { dimValues: parseDims(options.dim), runtimeShapes: options.runtimeShapes });
    const written = writeSplit(analyzed, {
      cut: options.cut,
      outDir: options.out,
      force: Boolean(options.force),
      request: planRequest(options, options.cut === 'dag')
    });
    for (const file of written.files) print(`wrote ${file}`);
    print(`cut ${written.partition.cut ?? 'dag'}: ${written.partition.localNodes.length} of ${analyzed.analysis.layers.length} nodes on the device, ${written.partition.crossing.length} tensors cross (${formatBytes(written.partition.uploadBytes)})`);
  });

program
  .command('zoo')
  .description('write the sample models (generated, deterministic; large ones on demand)')
  .option('--out <dir>', 'output folder', defaultZooDir())
  .option('--only <ids...>', 'only these models')
  .option('--skip-large', 'skip models of 100 MB or more')
  .option('--force', 'regenerate even if up to date')
  .option('--seed <n>', 'weight seed', (v) => Number(v), 1)
  .option('--debug', 'print stack traces on errors')
  .action((options: { out: string; only?: string[]; skipLarge?: boolean; force?: boolean; seed: number }) => {
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
    print(`models in ${options.out}`);
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') process.exit(0);
    process.exit(2);
  }
  reportAndExit(error, debug);
}
