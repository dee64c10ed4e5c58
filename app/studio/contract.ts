// The one typed contract between the studio's renderer and main: every request (with its
// parameters and result) and every event main pushes. Electron serves it over IPC (the
// preload exposes only this), the web host serves it unchanged over a WebSocket. Each side
// checks every message against these zod schemas at run time, so a malformed or unknown
// message is refused with a clear error instead of reaching the engine.
// Why zod: one declaration gives both the TypeScript types and the run-time check.
import { z } from 'zod';
import { MAX_REFINE_STEPS } from '../fleet/types.js';
import { EXECUTION_PROVIDERS } from '../profiling/types.js';

// The studio's page runs under a CSP without 'unsafe-eval' (main/studio/csp.ts); zod's
// JIT would probe `new Function` there and trip a CSP violation, so it stays off.
z.config({ jitless: true });

export const executionProviderSchema = z.enum(EXECUTION_PROVIDERS as unknown as ['cpu', 'webgpu', 'cuda', 'dml', 'coreml']);

const empty = z.object({}).strict();

/** A latency profile travels as the JSON that main/profiling/profiler.ts writes; its shape is checked there. */
const latencyProfileSchema = z.custom<import('../profiling/types.js').LatencyProfile>(
  (value) => typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'latency-profile',
  'expected a latency profile'
);
const modelViewSchema = z.custom<import('./model-view.js').ModelView>(
  (value) => typeof value === 'object' && value !== null && Array.isArray((value as { nodes?: unknown }).nodes),
  'expected a model view'
);

export const openedModelSchema = z.object({
  model: modelViewSchema,
  /**
   * Where it came from: a path on the machine main runs on, uploaded bytes (kept in the
   * studio home, at `path`, when streamed with upload.*), or a bundled sample (`sampleId`).
   * A page remembers `path` or `sampleId` to open the same model again after a reload.
   */
  source: z.object({
    kind: z.enum(['path', 'upload', 'sample']),
    label: z.string(),
    path: z.string().optional(),
    sampleId: z.string().optional()
  }),
  /** Profiles already measured for this model (kept per model id across launches). */
  profiles: z.object({ local: latencyProfileSchema.nullable(), remote: latencyProfileSchema.nullable() })
});

/** A file opened lately; `uploaded` when its bytes came from a page and are kept in the studio home. */
export const recentFileSchema = z.object({ path: z.string(), fileName: z.string(), openedAt: z.string(), uploaded: z.boolean().optional() });

/** One entry of a folder listing (files.list): a subfolder or an .onnx file. */
export const folderEntrySchema = z.object({
  name: z.string(),
  path: z.string(),
  kind: z.enum(['folder', 'model']),
  /** File size; null for folders. */
  bytes: z.number().nullable()
});

export const folderListingSchema = z.object({
  /** The folder listed; '' for the starting points (the home folder and the folders of recent files). */
  dir: z.string(),
  /** The folder above, when it may be listed too; '' for the starting points, null at the top. */
  parent: z.string().nullable(),
  entries: z.array(folderEntrySchema),
  /** True when the folder held more entries than a listing carries. */
  truncated: z.boolean()
});

export const providerStatusSchema = z.object({
  name: executionProviderSchema,
  available: z.boolean(),
  reason: z.string().optional()
});

export const executorStatusSchema = z.object({
  /** 'local' is the executor the studio started on loopback ("this machine"). */
  kind: z.enum(['local', 'remote']),
  url: z.string(),
  label: z.string(),
  state: z.enum(['starting', 'connected', 'unreachable', 'stopped']),
  error: z.string().optional(),
  rttMs: z.number().nullable(),
  uplinkMbps: z.number().nullable(),
  downlinkMbps: z.number().nullable(),
  /** Server-load factor K the executor reports. */
  loadFactor: z.number().nullable()
});

export const preferencesSchema = z.object({
  theme: z.enum(['light', 'dark', 'system']),
  localEp: executionProviderSchema,
  profileRuns: z.number().int().min(1).max(1000),
  profileWarmup: z.number().int().min(0).max(100),
  remoteExecutor: z.object({ url: z.string(), token: z.string().optional() }).nullable()
});

export const profileSideSchema = z.enum(['local', 'remote']);

/** The id of the studio's own machine among the devices. */
export const THIS_MACHINE_DEVICE = 'this-machine';

/**
 * A device the head can run on: this machine, or a device executor (an executor started
 * with --upstream) added by URL. Its facts are known once it has been profiled.
 */
export const deviceSchema = z.object({
  id: z.string(),
  label: z.string(),
  url: z.string().nullable(),
  cpu: z.string().nullable(),
  provider: z.string().nullable(),
  threads: z.number().nullable()
});

export const deviceListSchema = z.object({ devices: z.array(deviceSchema), activeId: z.string() });

export const profileProgressSchema = z.object({
  jobId: z.string(),
  modelId: z.string(),
  side: profileSideSchema,
  phase: z.string(),
  /** 0..1 */
  fraction: z.number().min(0).max(1),
  message: z.string()
});

export const profileDoneSchema = z.object({
  jobId: z.string(),
  modelId: z.string(),
  side: profileSideSchema,
  outcome: z.enum(['done', 'cancelled', 'failed']),
  profile: latencyProfileSchema.nullable(),
  error: z.string().optional()
});

/** Network conditions of a what-if (a preset's numbers or the sliders'). */
export const networkConditionsSchema = z.object({
  name: z.string().min(1),
  uplinkMbps: z.number().positive(),
  downlinkMbps: z.number().positive(),
  rttMs: z.number().min(0)
});

export const objectiveSchema = z.enum(['latency', 'energy']);

/** The view a partition config restores: which cut, under which conditions. */
export const partitionViewSchema = z.object({
  modelId: z.string(),
  cut: z.union([z.number().int().min(0), z.literal('dag')]),
  network: networkConditionsSchema,
  serverLoad: z.number().min(0),
  objective: objectiveSchema
});

export const sweepProgressSchema = z.object({
  jobId: z.string(),
  modelId: z.string(),
  /** 0..1 */
  fraction: z.number().min(0).max(1),
  message: z.string()
});

export const sweepCutSchema = z.object({
  cut: z.number().int().min(0),
  predictedMs: z.number(),
  /** Median measured end-to-end latency; null when the cut was skipped. */
  measuredMs: z.number().nullable()
});

/** The DAG min-cut partition, run for real beside the topological cuts. */
export const sweepDagSchema = z.object({
  localLayers: z.array(z.number().int().min(0)),
  predictedMs: z.number(),
  measuredMs: z.number(),
  /** measured(DAG partition) / measured(measured best cut). */
  vsBestCut: z.number()
});

export const sweepDoneSchema = z.object({
  jobId: z.string(),
  modelId: z.string(),
  outcome: z.enum(['done', 'cancelled', 'failed']),
  result: z
    .object({
      cuts: z.array(sweepCutSchema),
      predictedBest: z.number().int(),
      measuredBest: z.number().int().nullable(),
      serverLoad: z.number(),
      dag: sweepDagSchema.nullable(),
      /** measured(predicted best) / measured(measured best): 1 when the prediction picked the fastest cut; null when not measured. */
      ratio: z.number().nullable(),
      /** Median over measured cuts of |predicted − measured| / measured; null when nothing was measured. */
      predictionError: z.number().nullable(),
      /** Where the sweep's predictions took each side's per-layer latencies from ("measured on cpu", "estimated …"). */
      latencies: z.object({ local: z.string(), remote: z.string() }),
      /** The link the cuts ran on, and whether it was shaped to that network. */
      network: networkConditionsSchema.extend({ shaped: z.boolean() })
    })
    .nullable(),
  error: z.string().optional()
});

/** A fleet run's report travels as main/fleet/fleet-run.ts builds it (app/fleet/types.ts); its shape is checked there. */
const fleetReportSchema = z.custom<import('../fleet/types.js').FleetReport>(
  (value) => typeof value === 'object' && value !== null && Array.isArray((value as { policies?: unknown }).policies),
  'expected a fleet report'
);
const fleetPointSchema = z.custom<import('../fleet/types.js').FleetPoint>(
  (value) => typeof value === 'object' && value !== null && typeof (value as { arrivalRate?: unknown }).arrivalRate === 'number',
  'expected a fleet point'
);

export const fleetPolicySchema = z.enum(['cloud-only', 'neurosurgeon', 'load-aware']);

export const fleetProgressSchema = z.object({
  jobId: z.string(),
  /** 0..1 */
  fraction: z.number().min(0).max(1),
  message: z.string(),
  /** The point just measured, for the chart to grow while the run goes on. */
  point: fleetPointSchema.optional()
});

export const fleetDoneSchema = z.object({
  jobId: z.string(),
  outcome: z.enum(['done', 'cancelled', 'failed']),
  report: fleetReportSchema.nullable(),
  error: z.string().optional()
});

/** One measured (cut, encoding) (app/partition/wire-encoding.ts EncodedCutMeasurement). */
export const encodedCutMeasurementSchema = z.object({
  cut: z.number().int().min(0),
  encoding: z.string(),
  uploadBytes: z.number().min(0),
  encodeMs: z.number().min(0),
  decodeMs: z.number().min(0),
  agreement: z.number().min(0).max(1).nullable(),
  maxAbsError: z.number().min(0).optional(),
  meanAbsError: z.number().min(0).optional(),
  skipped: z.string().optional()
});

export const menuCommandSchema = z.enum(['open', 'export', 'toggle-theme', 'reload']);

/**
 * The name of an export's folder: a name, never a path — the folder goes under the studio's
 * export folder (in Electron the one picked in the native dialog, in the web host the
 * studio's own), so a page cannot make main write anywhere else.
 */
export const exportNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$/, 'a folder name (letters, digits, spaces, ".", "_", "-"; at most 100), not a path');

/** Where exports go: the folder, and whether this host lets the user choose another (Electron's dialog). */
export const exportFolderSchema = z.object({ dir: z.string(), canChoose: z.boolean() });

/** Every request: name → parameters and result. */
export const studioRequests = {
  'app.info': {
    params: empty,
    result: z.object({ version: z.string(), host: z.enum(['electron', 'web']), platform: z.string(), samples: z.array(z.object({ id: z.string(), title: z.string() })) })
  },
  'model.openPath': { params: z.object({ path: z.string().min(1) }).strict(), result: openedModelSchema },
  /** Bytes of a file the user picked or dropped (browser file input, drag and drop). */
  'model.openBytes': { params: z.object({ fileName: z.string().min(1), bytes: z.instanceof(Uint8Array) }).strict(), result: openedModelSchema },
  'model.openSample': { params: z.object({ id: z.string().min(1) }).strict(), result: openedModelSchema },
  'model.recent': { params: empty, result: z.array(recentFileSchema) },
  /**
   * A folder's subfolders and .onnx files, for the page's path field. Only the home folder,
   * the folders of recent files and what lies under them may be listed; dir '' lists those.
   */
  'files.list': { params: z.object({ dir: z.string() }).strict(), result: folderListingSchema },
  /**
   * A file the page streams in chunks (upload.chunk, in order), kept in the studio home so
   * it joins the recent files and opens again after a reload; upload.finish opens it.
   */
  'upload.begin': { params: z.object({ fileName: z.string().min(1), bytes: z.number().int().min(1) }).strict(), result: z.object({ uploadId: z.string() }) },
  'upload.chunk': {
    params: z.object({ uploadId: z.string().min(1), offset: z.number().int().min(0), bytes: z.instanceof(Uint8Array) }).strict(),
    result: z.object({ received: z.number().int() })
  },
  'upload.finish': { params: z.object({ uploadId: z.string().min(1) }).strict(), result: openedModelSchema },
  'upload.cancel': { params: z.object({ uploadId: z.string().min(1) }).strict(), result: z.object({ cancelled: z.boolean() }) },
  'providers.list': { params: empty, result: z.array(providerStatusSchema) },
  'profile.start': {
    params: z
      .object({
        modelId: z.string().min(1),
        side: profileSideSchema,
        ep: executionProviderSchema,
        runs: z.number().int().min(1).max(1000),
        warmup: z.number().int().min(0).max(100)
      })
      .strict(),
    result: z.object({ jobId: z.string() })
  },
  'profile.cancel': { params: z.object({ jobId: z.string().min(1) }).strict(), result: z.object({ cancelled: z.boolean() }) },
  'executor.status': { params: empty, result: executorStatusSchema },
  'executor.connect': { params: z.object({ url: z.string().url(), token: z.string().optional() }).strict(), result: executorStatusSchema },
  'executor.useLocal': { params: empty, result: executorStatusSchema },
  /** The devices the head can run on, and the one local profiles, plans and sweeps use. */
  'device.list': { params: empty, result: deviceListSchema },
  /** Adds a device executor by URL (checked by a ready call) and makes it the active device. */
  'device.add': { params: z.object({ url: z.string().url(), token: z.string().optional() }).strict(), result: deviceListSchema },
  /**
   * Makes a device the active one; with `modelId`, answers that model's profiles as seen from
   * it (the device's own profile as `local`), so the page re-plans with them.
   */
  'device.select': {
    params: z.object({ id: z.string().min(1), modelId: z.string().min(1).optional() }).strict(),
    result: deviceListSchema.extend({ profiles: z.object({ local: latencyProfileSchema.nullable(), remote: latencyProfileSchema.nullable() }).nullable() })
  },
  /**
   * Writes head.onnx, tail.onnx, the tail's model repository and partition.json (v2) for
   * a cut, into the folder `name` under the export folder (default: MODEL-cut-K, one folder
   * per model and cut, replaced by the next export of the same cut). `overwrite` replaces
   * only a folder an earlier export wrote. `encoding` ("int8", "fp16+deflate", …; fp32 when
   * absent) puts the wire encoding of the uploaded tensors into head and tail, as
   * `neurosurgeon export --encoding` does; one that cannot apply at the cut is refused.
   */
  'partition.export': {
    params: z
      .object({
        modelId: z.string().min(1),
        cut: z.union([z.number().int().min(0), z.literal('dag')]),
        network: networkConditionsSchema,
        serverLoad: z.number().min(0),
        objective: objectiveSchema,
        /** Radio power model (default: the preset the network names, else LTE's) and device power (default: the presets'). */
        radio: z
          .object({ uplinkAlphaMwPerMbps: z.number().min(0), downlinkAlphaMwPerMbps: z.number().min(0), betaMw: z.number().min(0), tailMw: z.number().min(0) })
          .optional(),
        device: z.object({ computeMw: z.number().min(0), idleMw: z.number().min(0) }).optional(),
        name: exportNameSchema.optional(),
        overwrite: z.boolean().optional(),
        encoding: z.string().min(1).max(32).optional()
      })
      .strict(),
    result: z.object({ dir: z.string(), files: z.array(z.string()), ms: z.number() })
  },
  /** The folder exports go into. */
  'partition.exportFolder': { params: empty, result: exportFolderSchema },
  /** Electron: picks the export folder in the native dialog and remembers it; the web host's is fixed (ExportError). */
  'partition.chooseExportFolder': { params: empty, result: exportFolderSchema.extend({ chosen: z.boolean() }) },
  /** Electron: shows an export's folder in the system's file manager (an export folder only). */
  'partition.reveal': { params: z.object({ dir: z.string().min(1) }).strict(), result: z.object({ revealed: z.boolean() }) },
  /**
   * Web host: a one-time address (EXPORT_DOWNLOAD_PATH + ticket, valid for a few minutes)
   * that downloads an export's folder as a zip (an export folder only).
   */
  'partition.download': { params: z.object({ dir: z.string().min(1) }).strict(), result: z.object({ url: z.string(), fileName: z.string() }) },
  /** Reads a partition.json (bytes or a path); refused when it was made for a model other than the open one(s). */
  'partition.import': {
    params: z.union([
      z.object({ bytes: z.instanceof(Uint8Array), fileName: z.string().min(1), modelId: z.string().min(1).optional() }).strict(),
      z.object({ path: z.string().min(1), modelId: z.string().min(1).optional() }).strict()
    ]),
    result: partitionViewSchema
  },
  /** Measures cuts 0, every, 2·every, …, N and the predicted best (and with `dag`, the DAG min-cut partition) through the connected executor. */
  'sweep.start': {
    params: z
      .object({
        modelId: z.string().min(1),
        network: networkConditionsSchema,
        every: z.number().int().min(1),
        runs: z.number().int().min(1).max(100),
        dag: z.boolean().optional()
      })
      .strict(),
    result: z.object({ jobId: z.string() })
  },
  'sweep.cancel': { params: z.object({ jobId: z.string().min(1) }).strict(), result: z.object({ cancelled: z.boolean() }) },
  /**
   * The datacenter's side (main/fleet/): emulated clients against an executor the run starts
   * on loopback, one run at a time; progress and the report come as fleet.* events.
   */
  'fleet.start': {
    params: z
      .object({
        clients: z.number().int().min(1).max(2000),
        /** Network weights, e.g. { "lte": 1 } or { "wifi": 0.5, "3g": 0.5 } (names checked by app/fleet/request.ts). */
        networkMix: z.record(z.string().min(1), z.number().positive()),
        models: z.array(z.string().min(1)).min(1).max(16),
        policies: z.array(fleetPolicySchema).min(1),
        rates: z.array(z.number().positive().max(10_000)).min(1).max(12),
        durationS: z.number().min(1).max(120),
        deviceSlowdown: z.number().min(1),
        objectiveMs: z.number().positive(),
        /** Refinement points per policy around its crossing of the objective (FleetRequest.refineSteps; default 0). */
        refineSteps: z.number().int().min(0).max(MAX_REFINE_STEPS).optional()
      })
      .strict(),
    result: z.object({ jobId: z.string() })
  },
  'fleet.cancel': { params: z.object({ jobId: z.string().min(1) }).strict(), result: z.object({ cancelled: z.boolean() }) },
  /** The live link to the connected executor (the "measured" network preset). */
  'executor.measureLink': { params: empty, result: z.object({ rttMs: z.number(), uplinkMbps: z.number(), downlinkMbps: z.number() }) },
  /**
   * Measures wire encodings at the given cuts on `samples` sample inputs (issue 16): bytes on
   * the wire, encode/decode ms on this machine, top-1 agreement and abs error against the
   * unsplit model. `encodings` 'auto': every encoding that can apply at each cut.
   */
  'encoding.measure': {
    params: z
      .object({
        modelId: z.string().min(1),
        cuts: z.array(z.number().int().min(0)).min(1).max(16),
        encodings: z.union([z.literal('auto'), z.array(z.string().min(1)).min(1)]),
        samples: z.number().int().min(1).max(256)
      })
      .strict(),
    result: z.object({ measurements: z.array(encodedCutMeasurementSchema), samples: z.number().int() })
  },
  'prefs.get': { params: empty, result: preferencesSchema },
  'prefs.set': { params: preferencesSchema.partial().strict(), result: preferencesSchema }
} as const;

/** Every event main pushes to the renderer. */
export const studioEvents = {
  'profile.progress': profileProgressSchema,
  'profile.done': profileDoneSchema,
  'executor.status': executorStatusSchema,
  'sweep.progress': sweepProgressSchema,
  'sweep.done': sweepDoneSchema,
  'fleet.progress': fleetProgressSchema,
  'fleet.done': fleetDoneSchema,
  'menu.command': z.object({ command: menuCommandSchema }),
  /**
   * A model opened from outside the renderer (command line, OS file association, menu).
   * `launch`: the model named on the web host's command line, announced to every new page;
   * a page that is reopening its own model after a reload ignores it.
   */
  'model.opened': openedModelSchema.extend({ launch: z.boolean().optional() }),
  /** A failure outside any request (a model from the command line or the menu would not open): show it in a banner. */
  'app.error': z.object({ name: z.string(), message: z.string() })
} as const;

export type StudioMethod = keyof typeof studioRequests;
export type StudioParams<M extends StudioMethod> = z.infer<(typeof studioRequests)[M]['params']>;
export type StudioResult<M extends StudioMethod> = z.infer<(typeof studioRequests)[M]['result']>;
export type StudioEventName = keyof typeof studioEvents;
export type StudioEvent<E extends StudioEventName> = z.infer<(typeof studioEvents)[E]>;

export type OpenedModel = z.infer<typeof openedModelSchema>;
export type ExecutorStatus = z.infer<typeof executorStatusSchema>;
export type Device = z.infer<typeof deviceSchema>;
export type DeviceList = z.infer<typeof deviceListSchema>;
export type Preferences = z.infer<typeof preferencesSchema>;
export type ProfileProgress = z.infer<typeof profileProgressSchema>;
export type ProfileDone = z.infer<typeof profileDoneSchema>;
export type RecentFile = z.infer<typeof recentFileSchema>;
export type FolderListing = z.infer<typeof folderListingSchema>;
export type FolderEntry = z.infer<typeof folderEntrySchema>;
export type MenuCommand = z.infer<typeof menuCommandSchema>;
export type PartitionView = z.infer<typeof partitionViewSchema>;
export type SweepProgress = z.infer<typeof sweepProgressSchema>;
export type SweepDone = z.infer<typeof sweepDoneSchema>;
export type FleetProgressEvent = z.infer<typeof fleetProgressSchema>;
export type FleetDone = z.infer<typeof fleetDoneSchema>;
export type ExportFolder = z.infer<typeof exportFolderSchema>;

/** An error as it crosses the contract: a name the UI can switch on and a one-line message. */
export interface StudioErrorPayload {
  name: string;
  message: string;
}

export class ContractError extends Error {
  override name = 'ContractError';
}

export function isStudioMethod(name: unknown): name is StudioMethod {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(studioRequests, name);
}

export function isStudioEventName(name: unknown): name is StudioEventName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(studioEvents, name);
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  const where = issue.path.length > 0 ? issue.path.join('.') : 'message';
  return `${where}: ${issue.message}`;
}

/** Checks a request's parameters; throws ContractError naming the method and the first problem. */
export function checkParams<M extends StudioMethod>(method: M, params: unknown): StudioParams<M> {
  const parsed = studioRequests[method].params.safeParse(params ?? {});
  if (!parsed.success) throw new ContractError(`${method}: bad parameters (${firstIssue(parsed.error)})`);
  return parsed.data as StudioParams<M>;
}

export function checkResult<M extends StudioMethod>(method: M, result: unknown): StudioResult<M> {
  const parsed = studioRequests[method].result.safeParse(result);
  if (!parsed.success) throw new ContractError(`${method}: bad result (${firstIssue(parsed.error)})`);
  return parsed.data as StudioResult<M>;
}

export function checkEvent<E extends StudioEventName>(event: E, payload: unknown): StudioEvent<E> {
  const parsed = studioEvents[event].safeParse(payload);
  if (!parsed.success) throw new ContractError(`${event}: bad event (${firstIssue(parsed.error)})`);
  return parsed.data as StudioEvent<E>;
}

/** What the renderer talks to: the same interface whether Electron's preload or the web host's socket is behind it. */
export interface StudioHost {
  request<M extends StudioMethod>(method: M, params: StudioParams<M>): Promise<StudioResult<M>>;
  on<E extends StudioEventName>(event: E, listener: (payload: StudioEvent<E>) => void): () => void;
  /**
   * Electron only: the path of a dropped or picked file on this machine (Electron's
   * webUtils.getPathForFile), so it can be opened by path instead of sending its bytes.
   * Absent in the web host; '' when the file has no path.
   */
  pathForFile?(file: object): string;
}
