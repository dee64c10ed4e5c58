// The executor as the *device* (issue 17): started with `--upstream URL` it runs a split's
// head itself and sends the head's output straight to that server — the one server it may
// forward to (no open relay: a request naming any other upstream is refused, 403) — over a
// link shaped as the request asks (shaper.ts), and answers the tail's outputs with where
// the time went. `--slowdown F` emulates a slower device for tests and the bench: every
// inference's compute is stretched to F× its time by sleeping after it, and profiles'
// times are multiplied by F (a sleep cannot be put inside onnxruntime's kernels).
//
//   POST /v2/studio/forward   an inference request (binary tensors) of the model's inputs with
//        parameters {"head_model"?, "tail_model"?, "tail_inputs", "tail_outputs", "upstream"?,
//        "uplink_mbps"?, "downlink_mbps"?, "rtt_ms"?, "network"?} → the requested outputs
//        with parameters {"device_ms","encode_ms","upload_ms","remote_ms","download_ms",
//        "bytes_up","bytes_down","total_ms"}; 502 names the upstream when it failed.
//   POST /v2/studio/characterize {"budgetS"} → a DeviceProfile (app/profiling/types.ts) of this
//        machine, `neurosurgeon characterize` in a child process (times scaled by --slowdown).
import type { DeviceProfile, LatencyProfile } from '../../app/profiling/types.js';
import type { NetworkConditions } from '../../app/partition/types.js';
import { ExecutorClient } from './client.js';
import type { RawTensor, TransferTimings } from './link.js';
import { ProtocolError, type DecodedInferRequest } from './protocol.js';
import { shaperFor } from './shaper.js';

/** The server a device executor forwards to (`--upstream`, `--upstream-token`). */
export interface UpstreamOptions {
  url: string;
  token?: string;
}

/** A URL's comparable form: origin and path without trailing slashes. */
export function normalizeUrl(value: string): string | null {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return url.origin + url.pathname.replace(/\/+$/, '');
  } catch {
    return null;
  }
}

/** What a forward request asks, from its parameters. */
export interface ForwardRequest {
  head: string | null;
  tail: string | null;
  tailInputs: string[];
  tailOutputs: string[];
  network: NetworkConditions | null;
}

function stringParameter(request: DecodedInferRequest, key: string): string | null {
  const value = request.parameters[key];
  if (value === undefined || value === '') return null;
  if (typeof value !== 'string') throw new ProtocolError(400, `parameter "${key}" must be a string`);
  return value;
}

function numberParameter(request: DecodedInferRequest, key: string): number | null {
  const value = request.parameters[key];
  if (value === undefined) return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new ProtocolError(400, `parameter "${key}" must be a number ≥ 0`);
  return value;
}

/** Reads a forward request's parameters; refuses an upstream other than the configured one. */
export function parseForward(request: DecodedInferRequest, upstream: UpstreamOptions | null): ForwardRequest {
  const head = stringParameter(request, 'head_model');
  const tail = stringParameter(request, 'tail_model');
  if (!head && !tail) throw new ProtocolError(400, 'a forward request names a "head_model", a "tail_model" or both');
  if (tail) {
    if (!upstream) throw new ProtocolError(403, 'this executor was started without --upstream: it forwards to no server');
    const asked = stringParameter(request, 'upstream');
    if (asked !== null && normalizeUrl(asked) !== normalizeUrl(upstream.url)) {
      throw new ProtocolError(403, `this device executor forwards only to its --upstream ${normalizeUrl(upstream.url)}, not to ${asked}`);
    }
  }
  const list = (key: string) => (stringParameter(request, key) ?? '').split(',').filter((name) => name !== '');
  const uplink = numberParameter(request, 'uplink_mbps');
  const downlink = numberParameter(request, 'downlink_mbps');
  const rtt = numberParameter(request, 'rtt_ms');
  const shaped = uplink !== null || downlink !== null || rtt !== null;
  if (shaped && (uplink === null || downlink === null || !(uplink > 0) || !(downlink > 0))) {
    throw new ProtocolError(400, 'a shaped forward needs "uplink_mbps" and "downlink_mbps" > 0 (and "rtt_ms")');
  }
  return {
    head,
    tail,
    tailInputs: list('tail_inputs'),
    tailOutputs: list('tail_outputs'),
    network: shaped ? { name: stringParameter(request, 'network') ?? 'custom', uplinkMbps: uplink as number, downlinkMbps: downlink as number, rttMs: rtt ?? 0 } : null
  };
}

/** The device executor's clients of its upstream: one per link shaping (each shaper paces its own link). */
export class UpstreamClients {
  private readonly clients = new Map<string, ExecutorClient>();

  constructor(
    readonly upstream: UpstreamOptions,
    private readonly timeoutMs: number
  ) {}

  private clientFor(network: NetworkConditions | null): ExecutorClient {
    const key = network ? `${network.uplinkMbps}/${network.downlinkMbps}/${network.rttMs}` : 'unshaped';
    let client = this.clients.get(key);
    if (!client) {
      client = new ExecutorClient({ url: this.upstream.url, token: this.upstream.token, timeoutMs: this.timeoutMs, shaper: network ? shaperFor(network) : undefined });
      this.clients.set(key, client);
    }
    return client;
  }

  /** Runs the tail upstream; any failure is a 502 naming the upstream. */
  async infer(network: NetworkConditions | null, model: string, inputs: RawTensor[], outputs: string[]): Promise<{ outputs: RawTensor[]; timings: TransferTimings }> {
    try {
      return await this.clientFor(network).infer(model, inputs, outputs.length > 0 ? { outputs } : {});
    } catch (error) {
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new ProtocolError(502, message.startsWith('executor ') ? `upstream ${message.slice('executor '.length)}` : `upstream ${normalizeUrl(this.upstream.url)}: ${message}`);
    }
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}

/** A profile as a device `factor`× slower would give it: every time multiplied. */
export function slowedProfile(profile: LatencyProfile, factor: number): LatencyProfile {
  if (factor === 1) return profile;
  const scale = (ms: number | null | undefined) => (typeof ms === 'number' ? ms * factor : ms);
  return {
    ...profile,
    device: { ...profile.device, hostname: `${profile.device.hostname} (emulated ${factor}× slower)` },
    wholeModelMs: scale(profile.wholeModelMs) ?? null,
    wholeModelSpread: profile.wholeModelSpread ? { ...profile.wholeModelSpread, p10Ms: profile.wholeModelSpread.p10Ms * factor, p90Ms: profile.wholeModelSpread.p90Ms * factor } : null,
    sumOfMediansMs: profile.sumOfMediansMs * factor,
    ...(profile.runOverheadMs !== undefined ? { runOverheadMs: profile.runOverheadMs * factor } : {}),
    ...(profile.rawSumOfMediansMs !== undefined ? { rawSumOfMediansMs: profile.rawSumOfMediansMs * factor } : {}),
    layers: profile.layers.map((layer) => ({
      ...layer,
      medianMs: layer.medianMs * factor,
      p10Ms: layer.p10Ms * factor,
      p90Ms: layer.p90Ms * factor,
      ...(layer.rawMedianMs !== undefined ? { rawMedianMs: layer.rawMedianMs * factor } : {})
    }))
  };
}

/** A device profile as a device `factor`× slower would give it: every time, fit and overhead multiplied. */
export function slowedDeviceProfile(profile: DeviceProfile, factor: number): DeviceProfile {
  if (factor === 1) return profile;
  return {
    ...profile,
    device: { ...profile.device, hostname: `${profile.device.hostname} (emulated ${factor}× slower)` },
    overheadMs: profile.overheadMs * factor,
    ...(profile.profilerOverheadMsPerKernel !== undefined ? { profilerOverheadMsPerKernel: profile.profilerOverheadMsPerKernel * factor } : {}),
    // latency = intercept + Σ coefficient × g(feature): F× the latency is F× every term.
    fits: profile.fits.map((fit) => ({ ...fit, intercept: fit.intercept * factor, coefficients: fit.coefficients.map((c) => c * factor) })),
    samples: profile.samples.map((sample) => ({ ...sample, ms: sample.ms * factor, ...(sample.rawMs !== undefined ? { rawMs: sample.rawMs * factor } : {}) }))
  };
}
