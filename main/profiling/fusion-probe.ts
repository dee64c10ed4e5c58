// Kernel detection (nn-Meter's, MobiSys 2021): which of the candidate patterns of
// app/prediction/fusion.ts onnxruntime really runs as one kernel, found by TESTING this
// runtime. Each pattern's tiny model is opened at a graph-optimisation level with the
// profiler on and the optimised graph saved; a few runs later, the kernel events of the
// trace say which kernels ran, and the optimised graph, mapped back to the original nodes
// (app/profiling/trace.ts attributeOptimizedGraph, as profiles of real models are), says
// which original nodes each kernel stands for and which were folded away. A pattern is
// fused when its nodes ran as fewer kernels than nodes (layout reorders aside) or some of
// them were folded. `neurosurgeon fusion-rules` writes the result (FusionRules) to
// resources/fusion-rules.json, the file prediction reads.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';
import { FUSION_PATTERNS, PROBE_READER, probeModel, type FusionPattern, type FusionRule, type FusionRules } from '../../app/prediction/fusion.js';
import { GraphBuilder } from '../../app/onnx/builder.js';
import { readOnnxModel } from '../../app/onnx/reader.js';
import type { OnnxModel } from '../../app/onnx/model.js';
import { attributeOptimizedGraph, identityAttribution, parseTrace, splitRuns, type GraphTopology } from '../../app/profiling/trace.js';
import type { GraphOptimization, NchwcLayout } from '../../app/profiling/types.js';
import { packageRoot } from '../files/paths.js';
import { isRecord, readJsonFile } from '../files/json-file.js';
import { threadOptions } from './providers.js';

const PROBE_RUNS = 3;
/** Layout conversions (NCHWc reorders) and relabelling reshapes the optimiser adds around kernels: not a pattern's own work. */
const LAYOUT_KERNELS = new Set(['ReorderInput', 'ReorderOutput', 'Transpose', 'Reshape']);

/** The version of onnxruntime-node this process runs. */
export function runtimeVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    const manifest: unknown = require('onnxruntime-node/package.json');
    return isRecord(manifest) && typeof manifest.version === 'string' ? manifest.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

function topology(model: OnnxModel): GraphTopology {
  return {
    nodes: model.graph.nodes.map((n) => ({ name: n.name, inputs: n.inputs, outputs: n.outputs })),
    sources: [...model.graph.inputs.map((i) => i.name), ...model.graph.initializers.keys()]
  };
}

/** Runs one pattern's model at `level` and reads which kernels computed its nodes. */
export async function probePattern(pattern: FusionPattern, level: GraphOptimization): Promise<FusionRule> {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'neurosurgeon-fusion-'));
  try {
    const bytes = probeModel(pattern);
    const original = readOnnxModel(bytes);
    const optimizedPath = path.join(folder, 'optimized.onnx');
    const session = await ort.InferenceSession.create(bytes, {
      ...threadOptions(),
      graphOptimizationLevel: level,
      logSeverityLevel: 3,
      enableProfiling: true,
      profileFilePrefix: path.join(folder, 'trace'),
      ...(level !== 'disabled' ? { optimizedModelFilePath: optimizedPath } : {})
    });
    const shape = pattern.probe.input;
    const feeds = { x: new ort.Tensor('float32', new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5), shape) };
    for (let i = 0; i < PROBE_RUNS; i++) await session.run(feeds);
    session.endProfiling();
    await session.release();
    const traceFile = readdirSync(folder).find((f) => f.startsWith('trace') && f.endsWith('.json'));
    if (!traceFile) throw new Error('onnxruntime wrote no profiling trace');
    const runs = splitRuns(parseTrace(readFileSync(path.join(folder, traceFile), 'utf8')));
    const kernels = runs[runs.length - 1] ?? [];
    const attribution =
      level === 'disabled' ? identityAttribution(topology(original)) : attributeOptimizedGraph(topology(original), topology(readOnnxModel(readFileSync(optimizedPath))), original.graph.nodes.map(() => null));
    // The pattern's nodes are the probe model's last ones before its reader (its builder adds them last).
    const beforeReader = original.graph.nodes.findIndex((n) => n.name === PROBE_READER);
    const members = original.graph.nodes.map((n, i) => ({ op: n.opType, i })).slice(0, beforeReader).slice(-pattern.nodes.length);
    const memberSet = new Set(members.map((m) => m.i));
    const patternOps = new Set(pattern.nodes.flatMap((n) => n.ops));
    // A kernel is the pattern's when its time goes to a member, or to no original node at
    // all (a function op expanded into kernels of other names).
    const ran = kernels.filter((k) => {
      const shares = attribution.shares.get(k.node);
      return !shares || shares.length === 0 || shares.some((s) => memberSet.has(s.node));
    });
    const kernelOps = ran.map((k) => k.op ?? '?');
    const ownKernels = kernelOps.filter((op) => !LAYOUT_KERNELS.has(op) || patternOps.has(op));
    const folded = members.filter((m) => attribution.status[m.i] === 'folded').map((m) => m.op);
    return {
      id: pattern.id,
      description: pattern.description,
      ops: pattern.nodes.map((n) => n.ops.join('|')),
      fused: folded.length > 0 || ownKernels.length < members.length,
      kernels: kernelOps,
      folded
    };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** Every pattern probed at both levels on the CPU provider. */
export async function probeFusionRules(patterns: readonly FusionPattern[] = FUSION_PATTERNS, onPattern?: (id: string) => void): Promise<FusionRules> {
  const levels: FusionRules['levels'] = {};
  for (const level of ['all', 'disabled'] as const) {
    const rules: FusionRule[] = [];
    for (const pattern of patterns) {
      onPattern?.(`${level}: ${pattern.id}`);
      rules.push(await probePattern(pattern, level));
    }
    levels[level] = rules;
  }
  return { kind: 'fusion-rules', runtime: runtimeVersion(), ep: 'cpu', date: new Date().toISOString(), levels };
}

/** Where the project keeps the rules found on its runtime. */
export function defaultFusionRulesFile(): string {
  return path.join(packageRoot(), 'resources', 'fusion-rules.json');
}

/** Reads a FusionRules file; null when it is missing or not one (prediction then fuses nothing). */
export async function readFusionRules(file = defaultFusionRulesFile()): Promise<FusionRules | null> {
  try {
    const json = await readJsonFile(file, (message) => new Error(message));
    if (!isRecord(json) || json.kind !== 'fusion-rules' || !isRecord(json.levels) || typeof json.runtime !== 'string') return null;
    return json as unknown as FusionRules;
  } catch {
    return null;
  }
}

/** The domain of onnxruntime's blocked-layout (NCHWc) kernels in an optimised graph. */
const NCHWC_DOMAIN = 'com.microsoft.nchwc';

/** A one-Conv model of the given channel geometry (3×3, 8×8 input), for the layout probes. */
export function probeConvModel(inChannels: number, outChannels: number, group: number): Uint8Array {
  const builder = new GraphBuilder('nchwc-probe', { seed: 1 });
  const x = builder.input('x', 'float32', [1, inChannels, 8, 8]);
  builder.output(builder.conv(x, { inChannels, outChannels, kernel: 3, pad: 1, group }), 'float32', null);
  return builder.toBytes();
}

/** The graph onnxruntime runs at 'all' for `model` (bytes or a file), as it saves it. */
async function optimizedAtAll(model: Uint8Array | string): Promise<OnnxModel> {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'neurosurgeon-nchwc-'));
  try {
    const optimizedPath = path.join(folder, 'optimized.onnx');
    const options = { ...threadOptions(), graphOptimizationLevel: 'all' as const, logSeverityLevel: 3 as const, optimizedModelFilePath: optimizedPath };
    const session = typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
    await session.release();
    return readOnnxModel(readFileSync(optimizedPath));
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/**
 * The layout reorders onnxruntime adds to `model` at 'all', by the original tensor each
 * reads (ReorderInput) or writes back (ReorderOutput): what app/prediction/nchwc-layout.ts
 * nchwcReorders predicts without the runtime.
 */
export async function runtimeReorders(model: Uint8Array | string): Promise<{ input: string[]; output: string[] }> {
  const nodes = (await optimizedAtAll(model)).graph.nodes.filter((node) => node.domain === NCHWC_DOMAIN);
  return {
    input: nodes.filter((node) => node.opType === 'ReorderInput').map((node) => node.inputs[0]),
    output: nodes.filter((node) => node.opType === 'ReorderOutput').map((node) => node.outputs[0])
  };
}

/**
 * The Slices and Gathers of `model` that onnxruntime merges into Splits at 'all'
 * (GatherSliceToSplitFusion), read from the optimised graph it saves: for each Split it
 * added, the names of the original nodes whose outputs it makes (a Gather's through the
 * Squeeze added after it), in the original graph's order.
 */
export async function runtimeSplits(model: Uint8Array | string): Promise<string[][]> {
  const original = readOnnxModel(typeof model === 'string' ? readFileSync(model) : model).graph;
  const optimized = (await optimizedAtAll(model)).graph;
  const originalNames = new Set(original.nodes.map((node) => node.name));
  const producerOf = new Map<string, number>();
  original.nodes.forEach((node, index) => node.outputs.forEach((output) => producerOf.set(output, index)));
  const squeezed = new Map<string, string>();
  for (const node of optimized.nodes) if (node.opType === 'Squeeze' && !originalNames.has(node.name)) squeezed.set(node.inputs[0], node.outputs[0]);
  return optimized.nodes
    .filter((node) => node.opType === 'Split' && !originalNames.has(node.name))
    .map((split) =>
      split.outputs
        .map((output) => producerOf.get(squeezed.get(output) ?? output))
        .filter((index): index is number => index !== undefined)
        .sort((a, b) => a - b)
        .map((index) => original.nodes[index].name)
    );
}

/** Whether onnxruntime, at 'all', runs `model`'s Conv in its blocked NCHWc layout (read from the optimised graph it saves). */
export async function convRunsBlocked(model: Uint8Array): Promise<boolean> {
  return (await optimizedAtAll(model)).graph.nodes.some((node) => node.domain === NCHWC_DOMAIN);
}

/**
 * onnxruntime's blocked NCHWc layout on this CPU, found by testing the runtime: the block is
 * the smallest channels-per-group of a two-group Conv it converts (16 with AVX-512, 8 with
 * AVX2); the alignment the smallest `a` for which a depthwise Conv of 5·a channels is
 * converted. Null when it converts no Conv (no blocked layout: every Conv runs as at
 * 'disabled'). Prediction applies it with app/prediction/features.ts runsBlocked.
 */
export async function probeNchwcLayout(): Promise<NchwcLayout | null> {
  let blockSize = 0;
  for (const perGroup of [2, 4, 8, 16, 32, 64]) {
    if (await convRunsBlocked(probeConvModel(2 * perGroup, 2 * perGroup, 2))) {
      blockSize = perGroup;
      break;
    }
  }
  if (blockSize === 0) return null;
  for (const alignment of [1, 2, 4, 8, 16, 32, 64]) if (await convRunsBlocked(probeConvModel(5 * alignment, 5 * alignment, 5 * alignment))) return { blockSize, channelAlignment: alignment };
  return { blockSize, channelAlignment: blockSize };
}
