// Network conditions applied to real transfers (the LinkShaper seam of link.ts): the
// executor client writes request bodies through shapeUpload and reads response bodies
// through shapeDownload. Each direction waits half the round-trip time once, before its
// first byte, and then paces bytes with a token bucket at its bandwidth — exactly the
// cost model's bytes × 8 / bandwidth + RTT / 2 (app/partition/cost.ts). The 'unshaped'
// preset (a wired or loopback lab link) passes bytes through untouched.
import { setTimeout as sleepMs } from 'node:timers/promises';
import type { NetworkConditions } from '../../app/partition/types.js';
import type { LinkShaper } from './link.js';

/** Where the shaper reads the time and waits; injected so tests run on a fake clock. */
export interface ShaperClock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

/**
 * performance.now() and a sleep that never ends early: Node's timers may fire up to a
 * millisecond before their time, so the rest is waited out by yielding to the event loop.
 */
export const realClock: ShaperClock = {
  now: () => performance.now(),
  sleep: async (ms) => {
    const until = performance.now() + ms;
    await sleepMs(ms);
    while (performance.now() < until) await new Promise<void>((resolve) => setImmediate(resolve));
  }
};

export interface ShaperOptions {
  clock?: ShaperClock;
  /** Pacing granularity: chunks are sliced to this many milliseconds of bytes (default 4). */
  sliceMs?: number;
  /**
   * Bucket size, ms of bytes (default 250): how far a transfer may catch up after the
   * process was held up (a busy CPU, a late timer), so delays of the sender's own making
   * do not slow the emulated link. A transfer on an idle link starts with an empty bucket,
   * so the size never buys a burst at the start.
   */
  bucketMs?: number;
}

/** A token bucket for one direction; it starts empty when a transfer starts on an idle link. */
class TokenBucket {
  private tokens = 0;
  private refilledAt = 0;
  private activeTransfers = 0;
  readonly sliceBytes: number;
  private readonly capacity: number;

  constructor(
    private readonly bytesPerMs: number,
    sliceMs: number,
    bucketMs: number,
    private readonly clock: ShaperClock
  ) {
    this.sliceBytes = Math.max(1, Math.floor(bytesPerMs * sliceMs));
    this.capacity = Math.max(this.sliceBytes, bytesPerMs * bucketMs);
  }

  begin(): void {
    if (this.activeTransfers++ === 0) {
      this.tokens = 0;
      this.refilledAt = this.clock.now();
    }
  }

  end(): void {
    this.activeTransfers--;
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.refilledAt) * this.bytesPerMs);
    this.refilledAt = now;
  }

  /**
   * Waits until `bytes` (at most one slice) may go, then spends them. A timer that fires
   * early leaves a small debt (negative tokens) that the next slice waits for, so the
   * pace holds without a retry loop that float rounding could keep spinning.
   */
  async take(bytes: number): Promise<void> {
    this.refill();
    if (this.tokens < bytes) {
      await this.clock.sleep((bytes - this.tokens) / this.bytesPerMs);
      this.refill();
    }
    this.tokens -= bytes;
  }
}

/** Paces real transfers to a network's bandwidth and round-trip time (see the file comment). */
export class NetworkShaper implements LinkShaper {
  readonly description: string;
  private readonly clock: ShaperClock;
  private readonly uplink: TokenBucket;
  private readonly downlink: TokenBucket;
  private readonly halfRttMs: number;

  constructor(readonly network: NetworkConditions, options: ShaperOptions = {}) {
    for (const [field, value] of [
      ['uplinkMbps', network.uplinkMbps],
      ['downlinkMbps', network.downlinkMbps]
    ] as const) {
      if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`${field} must be a finite number > 0, got ${value}`);
    }
    if (!(Number.isFinite(network.rttMs) && network.rttMs >= 0)) throw new RangeError(`rttMs must be a finite number >= 0, got ${network.rttMs}`);
    const sliceMs = options.sliceMs ?? 4;
    const bucketMs = options.bucketMs ?? 250;
    for (const [field, value] of [
      ['sliceMs', sliceMs],
      ['bucketMs', bucketMs]
    ] as const) {
      if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`${field} must be a finite number > 0, got ${value}`);
    }
    this.clock = options.clock ?? realClock;
    // Mbps → bytes per ms: × 1e6 / 8 / 1000.
    this.uplink = new TokenBucket((network.uplinkMbps * 1000) / 8, sliceMs, bucketMs, this.clock);
    this.downlink = new TokenBucket((network.downlinkMbps * 1000) / 8, sliceMs, bucketMs, this.clock);
    this.halfRttMs = network.rttMs / 2;
    this.description = `${network.name}: up ${network.uplinkMbps} Mbps, down ${network.downlinkMbps} Mbps, RTT ${network.rttMs} ms`;
  }

  shapeUpload(body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncIterable<Uint8Array> {
    return this.pace(body, this.uplink);
  }

  shapeDownload(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    return this.pace(body, this.downlink);
  }

  private async *pace(body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, bucket: TokenBucket): AsyncGenerator<Uint8Array> {
    if (this.halfRttMs > 0) await this.clock.sleep(this.halfRttMs);
    bucket.begin();
    try {
      for await (const chunk of body) {
        for (let offset = 0; offset < chunk.byteLength; offset += bucket.sliceBytes) {
          const slice = chunk.byteLength <= bucket.sliceBytes ? chunk : chunk.subarray(offset, offset + bucket.sliceBytes);
          await bucket.take(slice.byteLength);
          yield slice;
        }
      }
    } finally {
      bucket.end();
    }
  }
}

/** A link that leaves transfers alone: no delay, no copies. */
export class PassThroughShaper implements LinkShaper {
  readonly description = 'unshaped (no delay, no pacing)';

  shapeUpload(body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncIterable<Uint8Array> {
    if (Symbol.asyncIterator in body) return body;
    return (async function* () {
      yield* body;
    })();
  }

  shapeDownload(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    return body;
  }
}

/** The shaper for a network: pass-through for 'unshaped', paced otherwise. */
export function shaperFor(network: NetworkConditions, options: ShaperOptions = {}): LinkShaper {
  return network.name === 'unshaped' ? new PassThroughShaper() : new NetworkShaper(network, options);
}

