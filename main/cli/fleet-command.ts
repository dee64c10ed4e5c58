// The CLI's `fleet` command: the datacenter's side of Neurosurgeon (main/fleet/), N emulated
// mobile clients against one Open Inference Protocol executor — started here on loopback,
// or any given one serving (or accepting) the tails, Triton included. This file parses
// options and prints the text tables; --json prints the FleetReport (app/fleet/types.ts).
import type { Command } from 'commander';
import { parseNetworkMix, FleetInputError } from '../../app/fleet/mix.js';
import { defaultFleetRequest, parseRates } from '../../app/fleet/request.js';
import { isFleetPolicy, PAPER_MODELS, type FleetPolicy, type FleetReport, type LatencyPercentiles } from '../../app/fleet/types.js';
import { UsageError } from '../errors/user-errors.js';
import { defaultZooDir } from '../files/paths.js';
import { runFleet } from '../fleet/fleet-run.js';
import { positiveInteger, positiveNumber, print } from './options.js';
import { table } from './format.js';

interface FleetCliOptions {
  executor?: string;
  token?: string;
  serverPid?: number;
  clients: number;
  network: string;
  models: string;
  policies: string;
  rates: string;
  durationS: number;
  refine: number;
  deviceSlowdown: number;
  objectiveMs: number;
  objectiveScope: string;
  maxConcurrency: number;
  maxQueue: number;
  seed: number;
  json?: boolean;
}

function inputError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof FleetInputError) throw new UsageError(error.message);
    throw error;
  }
}

function ms(p: LatencyPercentiles | null): string {
  return p ? `${p.p50.toFixed(0)}/${p.p95.toFixed(0)}/${p.p99.toFixed(0)}` : '-';
}

/** The report as text: one row per point, then the policies at the objective, the gains and the generator. */
export function formatFleetReport(report: FleetReport): string {
  const lines: string[] = [];
  const mix = Object.entries(report.networkMix).map(([n, w]) => `${n} ${(w * 100).toFixed(0)} %`).join(', ');
  lines.push(`${report.clients} clients (${mix}) on ${report.models.length} models against ${report.executor} (${report.executorKind}); device ${report.deviceSlowdown}× slower than this machine`);
  lines.push(`objective: p95 of the ${report.objective.scope === 'server' ? "server's part" : 'end-to-end latency'} ≤ ${report.objective.p95Ms} ms, at most ${(report.objective.maxErrorShare * 100).toFixed(0)} % rejected or failed`);
  lines.push('');
  const rows = report.policies.flatMap((r) =>
    r.points.map((p) => [
      r.policy,
      p.arrivalRate.toFixed(1),
      p.throughputQps.toFixed(1),
      ms(p.endToEndMs),
      ms(p.serverMs),
      String(p.rejected),
      String(p.failed + p.unfinished),
      p.queueWaitMs === null ? '-' : p.queueWaitMs.toFixed(0),
      p.meanLoadFactor.toFixed(2),
      `${(p.localOnlyShare * 100).toFixed(0)} %`,
      p.serverCpuSecondsPerQuery === null ? '-' : (p.serverCpuSecondsPerQuery * 1000).toFixed(1),
      p.generatorCpuMsPerQuery.toFixed(2)
    ])
  );
  lines.push(
    table(
      ['policy', 'rate/s', 'done/s', 'e2e p50/95/99 ms', 'server p50/95/99 ms', '503', 'failed', 'queue ms', 'K', 'local', 'srv CPU ms/q', 'gen CPU ms/q'],
      rows,
      new Set([1, 2, 5, 6, 7, 8, 9, 10, 11])
    )
  );
  lines.push('');
  lines.push(
    table(
      ['policy', 'throughput at objective /s', 'knee (rate/s)', 'gain over cloud-only'],
      report.policies.map((r) => [
        r.policy,
        r.throughputAtObjective.toFixed(1),
        r.kneeRate === null ? 'beyond the sweep' : r.kneeRate.toFixed(1),
        r.policy === 'cloud-only' ? '1.00×' : (report.gainsOverCloudOnly[r.policy] ?? null) === null ? '-' : `${(report.gainsOverCloudOnly[r.policy] as number).toFixed(2)}×`
      ]),
      new Set([1, 2])
    )
  );
  if (report.loadAwareAtKnee) {
    const k = report.loadAwareAtKnee;
    lines.push(`load-aware at Neurosurgeon's knee (${k.arrivalRate} queries/s): ${k.throughputRatio.toFixed(2)}× its throughput${k.p95Ratio === null ? '' : `, ${k.p95Ratio.toFixed(2)}× its p95`}`);
  }
  lines.push(`generator (this process, not the server): ${report.generator.cpuMsPerQuery.toFixed(2)} ms CPU per query, at most ${(report.generator.peakCpuShare * 100).toFixed(0)} % of one core`);
  for (const note of report.notes) lines.push(`note: ${note}`);
  return lines.join('\n');
}

export function registerFleetCommand(program: Command): void {
  const defaults = defaultFleetRequest();
  program
    .command('fleet')
    .description("measure the datacenter's side: N emulated mobile clients (cloud-only, Neurosurgeon, load-aware) send Poisson queries to one executor; throughput at a p95 objective")
    .option('--executor <url>', 'an Open Inference Protocol server to load (default: start `neurosurgeon executor` on loopback); tails are uploaded once unless it holds them')
    .option('--token <token>', 'bearer token of --executor')
    .option('--server-pid <pid>', "process id of --executor, to read its CPU time", positiveInteger('--server-pid'))
    .option('--clients <n>', 'emulated clients', positiveInteger('--clients'), defaults.clients)
    .option('--network <mix>', 'network of the clients: wifi, lte, 3g, or a mix like wifi:0.5,lte:0.3,3g:0.2', 'wifi')
    .option('--models <ids>', 'zoo models the clients spread over', PAPER_MODELS.join(','))
    .option('--policies <names>', 'policies swept: cloud-only, neurosurgeon, load-aware', defaults.policies.join(','))
    .option('--rates <list>', 'arrival rates swept, queries per second over all clients', defaults.rates.join(','))
    .option('--duration-s <s>', 'seconds of arrivals per rate (a fifth of it, at most 2 s, is warm-up)', positiveNumber('--duration-s'), defaults.durationS)
    .option('--device-slowdown <f>', 'the emulated phone is this many times slower than this machine', positiveNumber('--device-slowdown'), defaults.deviceSlowdown)
    .option('--objective-ms <ms>', 'the p95 latency objective, ms', positiveNumber('--objective-ms'), defaults.objective.p95Ms)
    .option('--objective-scope <scope>', "what the objective bounds: server (the server's part) or end-to-end", 'server')
    .option('--max-concurrency <n>', 'slots of the executor started here', positiveInteger('--max-concurrency'), 2)
    .option('--max-queue <n>', 'queue of the executor started here (more get 503)', positiveInteger('--max-queue'), 64)
    .option('--refine <n>', 'after the rates, n more points per policy, each halving the bracket around its crossing of the objective', (v) => Number(v), 0)
    .option('--seed <n>', 'seed of the arrivals', (v) => Number(v), defaults.seed)
    .option('--json', 'machine-readable output (the FleetReport)')
    .option('--debug', 'print stack traces on errors')
    .action(async (options: FleetCliOptions) => {
      if (options.objectiveScope !== 'server' && options.objectiveScope !== 'end-to-end') throw new UsageError(`--objective-scope must be server or end-to-end, got "${options.objectiveScope}"`);
      const policies = options.policies.split(',').map((p) => p.trim()).filter((p) => p !== '');
      for (const policy of policies) if (!isFleetPolicy(policy)) throw new UsageError(`unknown policy "${policy}"; valid: cloud-only, neurosurgeon, load-aware`);
      const models = options.models.split(',').map((m) => m.trim()).filter((m) => m !== '');
      const request = {
        ...defaults,
        clients: options.clients,
        networkMix: inputError(() => parseNetworkMix(options.network)),
        models,
        policies: policies as FleetPolicy[],
        rates: inputError(() => parseRates(options.rates)),
        durationS: options.durationS,
        deviceSlowdown: options.deviceSlowdown,
        objective: { ...defaults.objective, p95Ms: options.objectiveMs, scope: options.objectiveScope as 'server' | 'end-to-end' },
        seed: options.seed,
        refineSteps: options.refine
      };
      const report = await runFleet({
        request,
        executorUrl: options.executor,
        token: options.token ?? process.env.NEUROSURGEON_EXECUTOR_TOKEN,
        serverPid: options.serverPid,
        zooDir: defaultZooDir(),
        maxConcurrency: options.maxConcurrency,
        maxQueue: options.maxQueue,
        onProgress: (p) => process.stderr.write(`neurosurgeon: ${p.total > 0 && p.phase === 'run' ? `[${p.done}/${p.total}] ` : ''}${p.message}\n`)
      });
      print(options.json ? JSON.stringify(report, null, 2) : formatFleetReport(report));
    });
}
