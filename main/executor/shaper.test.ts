// The network shaper on a fake clock: the time a transfer takes is exactly what the cost
// model charges (bytes at the preset's bandwidth plus half the RTT), chunks are sliced to
// the bucket, bytes arrive unchanged, and the unshaped link passes everything through.
import { describe, expect, it } from 'vitest';
import { networkPreset } from '../../app/partition/presets.js';
import { transferMs } from '../../app/partition/cost.js';
import { NetworkShaper, PassThroughShaper, shaperFor, type ShaperClock } from './shaper.js';

/** A clock whose sleeps advance time at once (optionally late by `lateMs`), recording each. */
function fakeClock(lateMs = 0): ShaperClock & { sleeps: number[]; time: number } {
  const clock = {
    time: 0,
    sleeps: [] as number[],
    now: () => clock.time,
    sleep: async (ms: number) => {
      clock.sleeps.push(ms);
      clock.time += ms + lateMs;
    }
  };
  return clock;
}

function bodyOf(sizes: number[]): Uint8Array[] {
  let value = 0;
  return sizes.map((size) => {
    const chunk = new Uint8Array(size);
    for (let i = 0; i < size; i++) chunk[i] = value++ & 0xff;
    return chunk;
  });
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(chunks));
}

describe('NetworkShaper', () => {
  it('takes bytes / uplink + RTT/2 for an upload, as the cost model charges', async () => {
    const { network } = networkPreset('lte');
    const clock = fakeClock();
    const shaper = new NetworkShaper(network, { clock });
    const body = bodyOf([200_000, 100_000, 37]);
    const out = await collect(shaper.shapeUpload(body));
    expect(concat(out)).toEqual(concat(body));
    const expected = transferMs(300_037, network.uplinkMbps) + network.rttMs / 2;
    expect(clock.time).toBeCloseTo(expected, 6);
    expect(clock.sleeps[0]).toBe(network.rttMs / 2);
  });

  it('paces downloads at the downlink rate, which differs from the uplink', async () => {
    const { network } = networkPreset('3g');
    const clock = fakeClock();
    const shaper = new NetworkShaper(network, { clock });
    async function* body() {
      yield* bodyOf([50_000]);
    }
    await collect(shaper.shapeDownload(body()));
    expect(clock.time).toBeCloseTo(transferMs(50_000, network.downlinkMbps) + network.rttMs / 2, 6);
    const upClock = fakeClock();
    await collect(new NetworkShaper(network, { clock: upClock }).shapeUpload(bodyOf([50_000])));
    expect(upClock.time).toBeGreaterThan(clock.time * 1.5);
  });

  it('slices chunks into views of the original bytes, sliceMs of bandwidth each', async () => {
    const network = { name: 'test', uplinkMbps: 8, downlinkMbps: 8, rttMs: 0 }; // 1000 bytes per ms
    const clock = fakeClock();
    const shaper = new NetworkShaper(network, { clock, sliceMs: 2 });
    const [chunk] = bodyOf([10_000]);
    const out = await collect(shaper.shapeUpload([chunk]));
    expect(out.map((c) => c.byteLength)).toEqual(Array(5).fill(2000));
    expect(out.every((c) => c.buffer === chunk.buffer)).toBe(true);
    expect(concat(out)).toEqual(chunk);
    expect(clock.time).toBeCloseTo(10, 9);
    expect(clock.sleeps.every((ms) => ms <= 2 + 1e-9)).toBe(true);
  });

  it('keeps the pace when every timer fires late: the bucket keeps the bytes it owes', async () => {
    const network = { name: 'test', uplinkMbps: 8, downlinkMbps: 8, rttMs: 0 };
    const clock = fakeClock(0.5);
    const shaper = new NetworkShaper(network, { clock });
    await collect(shaper.shapeUpload(bodyOf([400_000])));
    // 400 ms of bytes; lateness is absorbed by the bucket except for the last wait.
    expect(clock.time).toBeGreaterThanOrEqual(400);
    expect(clock.time).toBeLessThanOrEqual(400.5 + 1e-9);
  });

  it('catches up after the sender was held up, but no further back than the bucket', async () => {
    const network = { name: 'test', uplinkMbps: 8, downlinkMbps: 8, rttMs: 0 };
    const stalledClock = (stallMs: number) => {
      const clock = fakeClock();
      const sleep = clock.sleep;
      clock.sleep = async (ms: number) => {
        await sleep(ms);
        if (clock.sleeps.length === 3) clock.time += stallMs; // one long hold-up, early on
      };
      return clock;
    };
    const short = stalledClock(100);
    await collect(new NetworkShaper(network, { clock: short, bucketMs: 250 }).shapeUpload(bodyOf([400_000])));
    expect(short.time).toBeCloseTo(400, 6);
    const long = stalledClock(400);
    await collect(new NetworkShaper(network, { clock: long, bucketMs: 250 }).shapeUpload(bodyOf([400_000])));
    // 150 ms of the hold-up are beyond the bucket and lost (plus the slice that was due).
    expect(long.time).toBeGreaterThanOrEqual(400 + 400 - 250);
    expect(long.time).toBeLessThanOrEqual(400 + 400 - 250 + 4 + 1e-9);
  });

  it('waits RTT/2 before the first byte, even when the rate is high', async () => {
    const network = { name: 'test', uplinkMbps: 1e6, downlinkMbps: 1e6, rttMs: 80 };
    const clock = fakeClock();
    const shaper = new NetworkShaper(network, { clock });
    const iterator = shaper.shapeUpload(bodyOf([10]))[Symbol.asyncIterator]();
    expect(clock.time).toBe(0);
    const first = await iterator.next();
    expect(first.done).toBe(false);
    expect(clock.time).toBeGreaterThanOrEqual(40);
    expect(clock.time).toBeLessThan(40.001);
  });

  it('starts each transfer on an idle link with an empty bucket (no free burst)', async () => {
    const network = { name: 'test', uplinkMbps: 8, downlinkMbps: 8, rttMs: 0 };
    const clock = fakeClock();
    const shaper = new NetworkShaper(network, { clock });
    await collect(shaper.shapeUpload(bodyOf([5000])));
    clock.time += 10_000; // a long idle gap would fill a bucket that did not reset
    const start = clock.time;
    await collect(shaper.shapeUpload(bodyOf([5000])));
    expect(clock.time - start).toBeCloseTo(5, 9);
  });

  it('refuses a bandwidth of zero', () => {
    expect(() => new NetworkShaper({ name: 'x', uplinkMbps: 0, downlinkMbps: 1, rttMs: 0 })).toThrow(/uplinkMbps/);
  });
});

describe('unshaped links', () => {
  it('shaperFor gives a pass-through for the unshaped preset and a paced shaper otherwise', () => {
    expect(shaperFor(networkPreset('unshaped').network)).toBeInstanceOf(PassThroughShaper);
    expect(shaperFor(networkPreset('wifi').network)).toBeInstanceOf(NetworkShaper);
  });

  it('passes the very same chunks through', async () => {
    const shaper = new PassThroughShaper();
    const body = bodyOf([100_000, 3]);
    const out = await collect(shaper.shapeUpload(body));
    expect(out).toHaveLength(2);
    expect(out[0]).toBe(body[0]);
    expect(out[1]).toBe(body[1]);
    async function* download() {
      yield* body;
    }
    const stream = download();
    expect(shaper.shapeDownload(stream)).toBe(stream);
  });
});
