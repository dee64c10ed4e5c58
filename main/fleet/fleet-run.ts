// The fleet run (main/fleet/fleet-models.ts has the room's overview): opens the models,
// gives each emulated client its network, model and cut ladder, puts the tails on the
// executor once (a Triton-layout repository for the executor it starts on loopback, or
// uploads to a given one), then for each policy and arrival rate sends open-loop Poisson
// queries. A client is a coroutine, not a process: its own ExecutorClient (its own
// keep-alive socket) behind its own NetworkShaper, so each phone has its own radio. A query
// waits out the device's time for its head (latency profile × slowdown), then sends the
// crossing tensors to its tail with standard Open Inference Protocol inference calls.
// Overload shows as 503 counts and queue waits; queries still unanswered after the drain
// limit are counted as unfinished and their connections closed, so a point never hangs.
import { existsSync, linkSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { assignArrivals, poissonArrivals } from '../../app/fleet/arrivals.js';
import { assignModels, assignNetworks, FleetInputError } from '../../app/fleet/mix.js';
import { buildLoadLadder, chooseCut, cutsOf, type LoadLadder } from '../../app/fleet/policy.js';
import { checkFleetRequest } from '../../app/fleet/request.js';
import { gainOver, latencyPercentiles, loadAwareAtKnee, objectiveBracket, summarizePolicy } from '../../app/fleet/stats.js';
import type { FleetClientSummary, FleetPoint, FleetPolicy, FleetPolicyResult, FleetReport, FleetRequest } from '../../app/fleet/types.js';
import { defaultPlanOptions } from '../../app/partition/presets.js';
import { ExecutorClient, ExecutorError } from '../executor/client.js';
import { startExecutorProcess, type ExecutorProcess } from '../executor/executor-process.js';
import { NetworkShaper, PassThroughShaper, type ShaperClock } from '../executor/shaper.js';
import { UsageError } from '../errors/user-errors.js';
import { buildTail, openFleetModel, writeToRepository, type FleetModel, type FleetTail } from './fleet-models.js';
import { LoadProbe, meanQueueWaitMs, processCpuSeconds } from './server-probe.js';

export class FleetCancelledError extends Error {
  override name = 'FleetCancelledError';
  constructor() {
    super('the fleet run was cancelled');
  }
}

export interface FleetProgress {
  phase: 'prepare' | 'run';
  message: string;
  /** Points measured so far, of `total`. */
  done: number;
  total: number;
  /** The point just measured (run phase). */
  point?: FleetPoint;
}

export interface FleetRunOptions {
  request: FleetRequest;
  /** An Open Inference Protocol server already serving (or accepting uploads of) the tails; without it the fleet starts `neurosurgeon executor` on loopback. */
  executorUrl?: string;
  token?: string;
  /** Process id of a given executor, to read its CPU time (the started one's is known). */
  serverPid?: number;
  zooDir: string;
  /** Slots and queue of the executor the fleet starts (defaults 2 and 64). */
  maxConcurrency?: number;
  maxQueue?: number;
  /** Where this machine's model profiles are cached (fleet-models.ts). */
  profileCacheDir?: string;
  /** Models opened by an earlier run (planFleet), reused. */
  modelCache?: Map<string, FleetModel>;
  signal?: AbortSignal;
  onProgress?: (progress: FleetProgress) => void;
}

interface EmulatedClient {
  network: string;
  model: FleetModel;
  ladder: LoadLadder;
  executor: ExecutorClient;
}

interface QueryOutcome {
  status: 'ok' | 'rejected' | 'failed';
  endToEndMs: number;
  serverMs: number | null;
  cutShare: number;
  localOnly: boolean;
  error?: string;
}

/** Pacing granularity of the clients' shapers: coarser than a single split run's 4 ms, so hundreds of concurrent transfers stay cheap for the generator. */
const FLEET_SLICE_MS = 50;

/**
 * The shapers' clock: plain timers. The split runner's clock (shaper.ts realClock) waits out
 * a timer that fires early by yielding in a loop — exact for one transfer, but a
 * millisecond of spinning per slice of every one of hundreds of transfers is most of the
 * generator's CPU. Here an early timer leaves the token bucket a small debt that the next
 * slice pays, so the pace still holds over a transfer.
 */
const fleetClock: ShaperClock = { now: () => performance.now(), sleep: (ms) => sleep(ms) };

function newExecutorClient(url: string, token: string | undefined, network: string): ExecutorClient {
  const preset = defaultPlanOptions(network).network;
  const shaper = network === 'unshaped' ? new PassThroughShaper() : new NetworkShaper(preset, { sliceMs: FLEET_SLICE_MS, clock: fleetClock });
  return new ExecutorClient({ url, token, shaper, timeoutMs: 60_000 });
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new FleetCancelledError();
}

/** Hard-links a file where it can (no copy of a large model), else lets the caller write the bytes. */
function linkOrWrite(source: string | null, target: string): boolean {
  if (!source) return false;
  try {
    mkdirSync(path.dirname(target), { recursive: true });
    linkSync(source, target);
    return true;
  } catch {
    return false;
  }
}

/** The clients of a request and what they need: networks, models (opened once), cut ladders and the tails every policy may call. */
export interface FleetPlan {
  networks: string[];
  modelOfClient: string[];
  models: Map<string, FleetModel>;
  ladderOf: (model: FleetModel, network: string) => LoadLadder;
  /** Model id → cuts some client may send to the executor. */
  neededCuts: Map<string, Set<number>>;
}

/** Opens the models (from `modelCache` when given, keyed by id and slowdown) and plans every client's cuts. */
export async function planFleet(
  request: FleetRequest,
  options: { zooDir: string; profileCacheDir?: string; signal?: AbortSignal; modelCache?: Map<string, FleetModel>; onProgress?: (progress: FleetProgress) => void }
): Promise<FleetPlan> {
  // Clients: networks in proportion to the mix, models round-robin within each network.
  const networks = assignNetworks(request.networkMix, request.clients);
  const modelOfClient = assignModels(networks, request.models);
  const models = new Map<string, FleetModel>();
  for (const id of [...new Set(modelOfClient)]) {
    throwIfAborted(options.signal);
    const key = `${id}×${request.deviceSlowdown}`;
    let model = options.modelCache?.get(key);
    if (!model) {
      options.onProgress?.({ phase: 'prepare', message: `opening ${id} (profile on this machine, cached after the first run)`, done: 0, total: 0 });
      model = await openFleetModel(id, { zooDir: options.zooDir, slowdown: request.deviceSlowdown, cacheDir: options.profileCacheDir, signal: options.signal });
      options.modelCache?.set(key, model);
    }
    models.set(id, model);
  }
  const ladders = new Map<string, LoadLadder>();
  const ladderOf = (model: FleetModel, network: string): LoadLadder => {
    const key = `${model.id}@${network}`;
    let ladder = ladders.get(key);
    if (!ladder) {
      ladder = buildLoadLadder(model.table, defaultPlanOptions(network));
      ladders.set(key, ladder);
    }
    return ladder;
  };
  const neededCuts = new Map<string, Set<number>>();
  for (let i = 0; i < request.clients; i++) {
    const model = models.get(modelOfClient[i]) as FleetModel;
    const ladder = ladderOf(model, networks[i]);
    const cuts = neededCuts.get(model.id) ?? new Set<number>();
    for (const policy of request.policies) for (const cut of cutsOf(policy, ladder)) if (cut < model.nodeCount) cuts.add(cut);
    neededCuts.set(model.id, cuts);
  }
  return { networks, modelOfClient, models, ladderOf, neededCuts };
}

/** Writes every tail a plan needs into a Triton-layout repository (cut 0 hard-linked to the model file where possible). */
export function writeTails(plan: FleetPlan, repository: string, signal?: AbortSignal, progress?: (message: string) => void): Map<string, FleetTail> {
  const write = writeToRepository(repository);
  const tails = new Map<string, FleetTail>();
  for (const [id, cuts] of plan.neededCuts) {
    const model = plan.models.get(id) as FleetModel;
    for (const cut of cuts) {
      throwIfAborted(signal);
      progress?.(`writing the tail of ${id} at cut ${cut}`);
      const tail = buildTail(model, cut, (name, bytes) => {
        // Cut 0's tail is the model file itself: linked, not copied, where the file system allows.
        const target = path.join(repository, name, '1', 'model.onnx');
        if (existsSync(target)) return;
        const whole = cut === 0 && model.analyzed.model.externalData.length === 0 ? model.analyzed.path : null;
        if (!linkOrWrite(whole, target)) write(name, bytes);
      });
      tails.set(`${id}:${cut}`, tail);
    }
  }
  return tails;
}

export async function runFleet(options: FleetRunOptions): Promise<FleetReport> {
  const { request, signal } = options;
  try {
    checkFleetRequest(request);
  } catch (error) {
    if (error instanceof FleetInputError) throw new UsageError(error.message);
    throw error;
  }
  const progress = (message: string, done = 0, point?: FleetPoint) =>
    options.onProgress?.({ phase: point || done > 0 ? 'run' : 'prepare', message, done, total: request.policies.length * (request.rates.length + (request.refineSteps ?? 0)), point });

  const plan = await planFleet(request, { ...options, onProgress: options.onProgress });
  const { networks, modelOfClient, models, ladderOf, neededCuts } = plan;

  let executor: ExecutorProcess | null = null;
  let repository: string | null = null;
  const clients: EmulatedClient[] = [];
  const probeToken = options.token;
  try {
    const tails = new Map<string, FleetTail>();
    let url: string;
    if (options.executorUrl) {
      url = options.executorUrl.replace(/\/+$/, '');
      const control = new ExecutorClient({ url, token: options.token, timeoutMs: 120_000 });
      try {
        if (!(await control.live())) throw new UsageError(`executor ${url} does not answer (is it running?)`);
        for (const [id, cuts] of neededCuts) {
          for (const cut of cuts) {
            throwIfAborted(signal);
            progress(`uploading the tail of ${id} at cut ${cut} (skipped when the executor holds its bytes)`);
            let pending: Promise<unknown> = Promise.resolve();
            const tail = buildTail(models.get(id) as FleetModel, cut, (name, bytes) => (pending = control.uploadModel(bytes, { name })));
            await pending;
            tails.set(`${id}:${cut}`, tail);
          }
        }
      } finally {
        control.close();
      }
    } else {
      repository = mkdtempSync(path.join(os.tmpdir(), 'neurosurgeon-fleet-repo-'));
      for (const [key, tail] of writeTails(plan, repository, signal, progress)) tails.set(key, tail);
      progress('starting the executor on loopback (it loads every tail)');
      executor = await startExecutorProcess(
        ['--models', repository, '--max-concurrency', String(options.maxConcurrency ?? 2), '--max-queue', String(options.maxQueue ?? 64), '--timeout-s', '30'],
        // Under Electron (the studio's Throughput tab), process.execPath is Electron itself: ELECTRON_RUN_AS_NODE makes it Node.
        { timeoutMs: 300_000, env: { ...process.env, ...(process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {}) } }
      );
      url = executor.url;
    }
    const serverPid = executor?.child.pid ?? options.serverPid;

    for (let i = 0; i < request.clients; i++) {
      const model = models.get(modelOfClient[i]) as FleetModel;
      clients.push({ network: networks[i], model, ladder: ladderOf(model, networks[i]), executor: newExecutorClient(url, options.token, networks[i]) });
    }
    const groups = new Map<string, FleetClientSummary>();
    for (const client of clients) {
      const key = `${client.network}@${client.model.id}`;
      const group = groups.get(key) ?? { network: client.network, model: client.model.id, count: 0, neurosurgeonCut: client.ladder.rungs[0].cut, layers: client.model.nodeCount };
      group.count++;
      groups.set(key, group);
    }

    // Every tail's first runs in each execution slot are slow (onnxruntime sets itself up on
    // the first run): run each twice at once, unshaped and unmeasured, before any point.
    progress(`warming up ${tails.size} tails on the executor`);
    const warm = new ExecutorClient({ url, token: options.token, timeoutMs: 120_000 });
    try {
      for (const tail of tails.values()) {
        throwIfAborted(signal);
        await Promise.all([warm.infer(tail.name, tail.inputs), warm.infer(tail.name, tail.inputs)]);
      }
    } finally {
      warm.close();
    }

    const probe = new LoadProbe(url, probeToken);
    const notes: string[] = [];
    const runQuery = async (client: EmulatedClient, cut: number): Promise<QueryOutcome> => {
      const started = performance.now();
      const deviceMs = client.model.table.localPrefixMs[cut];
      if (deviceMs >= 1) await sleep(deviceMs);
      const cutShare = cut / client.model.nodeCount;
      if (cut >= client.model.nodeCount) return { status: 'ok', endToEndMs: performance.now() - started, serverMs: null, cutShare, localOnly: true };
      const tail = tails.get(`${client.model.id}:${cut}`) as FleetTail;
      try {
        const { timings } = await client.executor.infer(tail.name, tail.inputs);
        // What is left of the call once encoding and both shaped transfers (each with its half RTT) are taken off: the server's part.
        const serverMs = Math.max(0, timings.totalMs - timings.encodeMs - timings.uploadMs - timings.downloadMs);
        return { status: 'ok', endToEndMs: performance.now() - started, serverMs, cutShare, localOnly: false };
      } catch (error) {
        const rejected = error instanceof ExecutorError && error.status === 503;
        return { status: rejected ? 'rejected' : 'failed', endToEndMs: performance.now() - started, serverMs: null, cutShare, localOnly: false, error: (error as Error).message };
      }
    };

    const runPoint = async (policy: FleetPolicy, rate: number, seed: number): Promise<FleetPoint> => {
      const durationMs = request.durationS * 1000;
      const warmupMs = Math.min(2000, durationMs * 0.2);
      const arrivals = poissonArrivals(rate, durationMs, seed);
      const owners = assignArrivals(arrivals.length, clients.length, seed);
      const outcomes: (QueryOutcome | undefined)[] = new Array(arrivals.length);
      const lags: number[] = [];
      const pending = new Set<Promise<void>>();
      let loadSum = 0;
      const idle = await probe.waitIdle(60_000);
      if (!idle) notes.push(`${policy} at ${rate} queries/s started while the executor was still busy with earlier queries (waited 60 s)`);
      probe.start();
      const statsBefore = await probe.read();
      const serverCpuBefore = serverPid ? processCpuSeconds(serverPid) : null;
      const cpuBefore = process.cpuUsage();
      const start = performance.now();
      let dispatched = 0;
      for (let i = 0; i < arrivals.length; i++) {
        if (signal?.aborted) break;
        const due = start + arrivals[i];
        const wait = due - performance.now();
        if (wait >= 1) await sleep(wait);
        lags.push(Math.max(0, performance.now() - due));
        const client = clients[owners[i]];
        const k = probe.loadFactor;
        loadSum += k;
        const query = runQuery(client, chooseCut(policy, client.ladder, k)).then((outcome) => {
          outcomes[i] = outcome;
        });
        pending.add(query);
        void query.finally(() => pending.delete(query));
        dispatched++;
      }
      // Drain: the slowest transfer and a queue three times the objective; a query later than that is counted unfinished.
      const drainMs = Math.max(15_000, 3 * request.objective.p95Ms);
      const drained = Promise.allSettled([...pending]);
      let aborted = false;
      const onAbort = new Promise<void>((resolve) => signal?.addEventListener('abort', () => ((aborted = true), resolve()), { once: true }));
      await Promise.race([drained, sleep(drainMs), onAbort]);
      const wallMs = performance.now() - start;
      const cpu = process.cpuUsage(cpuBefore);
      const serverCpuAfter = serverPid ? processCpuSeconds(serverPid) : null;
      const statsAfter = await probe.read();
      probe.stop();
      if (pending.size > 0) {
        // Close the stragglers' connections and give their clients fresh ones.
        for (const client of clients) {
          client.executor.close();
          client.executor = newExecutorClient(url, options.token, client.network);
        }
      }
      if (aborted || signal?.aborted) throw new FleetCancelledError();
      const windowS = (durationMs - warmupMs) / 1000;
      const inWindow = arrivals.map((t, i) => ({ t, outcome: outcomes[i] })).filter((a, i) => i < dispatched && a.t >= warmupMs);
      const done = inWindow.map((a) => a.outcome).filter((o): o is QueryOutcome => o !== undefined);
      const ok = done.filter((o) => o.status === 'ok');
      const allOk = outcomes.filter((o) => o?.status === 'ok').length;
      const generatorCpuMs = (cpu.user + cpu.system) / 1000;
      return {
        policy,
        arrivalRate: rate,
        windowS,
        offered: inWindow.length,
        completed: ok.length,
        rejected: done.filter((o) => o.status === 'rejected').length,
        failed: done.filter((o) => o.status === 'failed').length,
        unfinished: inWindow.length - done.length,
        // The offered rate times the share of its queries answered: the count of arrivals in a short window is itself random.
        throughputQps: inWindow.length > 0 ? (rate * ok.length) / inWindow.length : 0,
        localOnlyShare: ok.length ? ok.filter((o) => o.localOnly).length / ok.length : 0,
        meanCutShare: ok.length ? ok.reduce((s, o) => s + o.cutShare, 0) / ok.length : 0,
        endToEndMs: latencyPercentiles(ok.map((o) => o.endToEndMs)),
        serverMs: latencyPercentiles(ok.filter((o) => o.serverMs !== null).map((o) => o.serverMs as number)),
        queueWaitMs: meanQueueWaitMs(statsBefore, statsAfter),
        meanLoadFactor: dispatched ? loadSum / dispatched : 1,
        serverCpuSecondsPerQuery: serverCpuBefore !== null && serverCpuAfter !== null && allOk > 0 ? (serverCpuAfter - serverCpuBefore) / allOk : null,
        generatorCpuMsPerQuery: dispatched ? generatorCpuMs / dispatched : 0,
        generatorCpuShare: generatorCpuMs / wallMs,
        dispatchLagP95Ms: latencyPercentiles(lags)?.p95 ?? 0
      };
    };

    // Rates outer, policies inner: each policy meets each rate at nearly the same moment, so
    // a machine whose other load drifts during the run biases no policy against another.
    const pointsOf = new Map<FleetPolicy, FleetPoint[]>(request.policies.map((policy) => [policy, []]));
    let done = 0;
    const measurePoint = async (policy: FleetPolicy, rate: number, seed: number, what = ''): Promise<void> => {
      throwIfAborted(signal);
      progress(`${policy} at ${rate} queries/s${what}`, done);
      const point = await runPoint(policy, rate, seed);
      (pointsOf.get(policy) as FleetPoint[]).push(point);
      done++;
      progress(`${policy} at ${rate} queries/s${what}: ${point.throughputQps.toFixed(1)} queries/s, server p95 ${point.serverMs ? point.serverMs.p95.toFixed(0) : '-'} ms`, done, point);
      const errors = point.rejected + point.failed + point.unfinished;
      if (errors > 0) {
        notes.push(`${policy} at ${rate} queries/s: ${point.rejected} rejected (503), ${point.failed} failed, ${point.unfinished} unfinished of ${point.offered}; mean queue wait ${point.queueWaitMs === null ? 'unknown' : `${point.queueWaitMs.toFixed(0)} ms`}`);
      }
      if (point.dispatchLagP95Ms > 50) notes.push(`${policy} at ${rate} queries/s: the generator dispatched late (p95 ${point.dispatchLagP95Ms.toFixed(0)} ms behind schedule); its CPU share was ${(point.generatorCpuShare * 100).toFixed(0)} %`);
    };
    for (const [r, rate] of request.rates.entries()) {
      for (const [p, policy] of request.policies.entries()) await measurePoint(policy, rate, request.seed * 1000 + p * 100 + r);
    }
    // Refinement: each step halves every policy's bracket around its crossing of the objective.
    const refineSteps = request.refineSteps ?? 0;
    for (let step = 1; step <= refineSteps; step++) {
      for (const [p, policy] of request.policies.entries()) {
        const bracket = objectiveBracket(pointsOf.get(policy) as FleetPoint[], request.objective);
        const rate = bracket ? Math.round(((bracket.metRate + bracket.missedRate) / 2) * 10) / 10 : 0;
        // Nothing to refine: met at every rate, or the bracket is narrower than a tenth of a query a second.
        if (!bracket || rate <= bracket.metRate || rate >= bracket.missedRate) {
          done++;
          continue;
        }
        await measurePoint(policy, rate, request.seed * 1000 + p * 100 + 50 + step, ` (refining ${step}/${refineSteps})`);
      }
    }
    const results: FleetPolicyResult[] = request.policies.map((policy) => summarizePolicy(policy, pointsOf.get(policy) as FleetPoint[], request.objective));
    if (probe.problem) notes.push(probe.problem);
    const allPoints = results.flatMap((r) => r.points);
    const weights = allPoints.map((p) => p.arrivalRate * request.durationS);
    const weightSum = weights.reduce((a, b) => a + b, 0);
    return {
      executor: url,
      executorKind: options.executorUrl ? 'given' : 'started',
      clients: request.clients,
      networkMix: request.networkMix,
      models: [...models.keys()],
      deviceSlowdown: request.deviceSlowdown,
      objective: request.objective,
      seed: request.seed,
      clientGroups: [...groups.values()],
      policies: results,
      gainsOverCloudOnly: Object.fromEntries(request.policies.filter((p) => p !== 'cloud-only').map((p) => [p, gainOver(results, p)])),
      loadAwareAtKnee: loadAwareAtKnee(results, request.objective),
      generator: {
        cpuMsPerQuery: weightSum > 0 ? allPoints.reduce((s, p, i) => s + p.generatorCpuMsPerQuery * weights[i], 0) / weightSum : 0,
        peakCpuShare: Math.max(0, ...allPoints.map((p) => p.generatorCpuShare))
      },
      notes
    };
  } finally {
    for (const client of clients) client.executor.close();
    await executor?.stop();
    if (repository) rmSync(repository, { recursive: true, force: true });
  }
}
