// The executor link's polling with a scripted executor: a check that times out while the
// studio's own job keeps the executor busy leaves it connected (no false "unreachable"),
// the same timeout when idle marks it unreachable, and a refused connection marks it
// unreachable even while busy.
import { describe, expect, it } from 'vitest';
import type { ExecutorStatus } from '../../app/studio/contract.js';
import { ExecutorLink, type ExecutorApi } from './executor-link.js';

/** An executor whose readiness check can be made to hang or fail. */
function scriptedExecutor(): { api: ExecutorApi; mode: { ready: 'ok' | 'hang' | 'refuse' } } {
  const mode: { ready: 'ok' | 'hang' | 'refuse' } = { ready: 'ok' };
  const api: ExecutorApi = {
    uploadModel: async () => ({ name: 'm' }),
    profile: async () => {
      throw new Error('not used');
    },
    measureLink: async () => ({ rttMs: 1, uplinkMbps: 100, downlinkMbps: 100 }),
    load: async () => ({ loadFactor: 1 }),
    live: async () => true,
    ready: () =>
      mode.ready === 'ok'
        ? Promise.resolve(true)
        : mode.ready === 'hang'
          ? new Promise<boolean>(() => undefined)
          : Promise.reject(Object.assign(new Error('fetch failed'), { cause: { code: 'ECONNREFUSED' } }))
  };
  return { api, mode };
}

function statesDuring(link: ExecutorLink, ms: number): Promise<ExecutorStatus['state'][]> {
  const seen: ExecutorStatus['state'][] = [];
  const off = link.onStatus((status) => seen.push(status.state));
  return new Promise((resolve) =>
    setTimeout(() => {
      off();
      resolve(seen);
    }, ms)
  );
}

describe('ExecutorLink while the executor is busy', () => {
  it('does not call a busy executor unreachable for a slow check, but does when idle or refusing', async () => {
    const { api, mode } = scriptedExecutor();
    const link = new ExecutorLink({ connect: () => api, supervisor: null, pollMs: 40, checkTimeoutMs: 60, log: () => undefined });
    try {
      expect((await link.connectRemote('http://10.0.0.9:8000')).state).toBe('connected');

      let finishJob = () => undefined as void;
      const job = link.busyWhile(new Promise<void>((resolve) => (finishJob = resolve)));
      mode.ready = 'hang';
      expect(await statesDuring(link, 400)).not.toContain('unreachable');
      expect(link.status().state).toBe('connected');

      mode.ready = 'refuse';
      const refused = await statesDuring(link, 300);
      expect(refused).toContain('unreachable');
      expect(link.status().error).toMatch(/ECONNREFUSED/);

      mode.ready = 'ok';
      await statesDuring(link, 200);
      expect(link.status().state).toBe('connected');
      finishJob();
      await job;

      mode.ready = 'hang';
      await statesDuring(link, 400);
      expect(link.status()).toMatchObject({ state: 'unreachable', error: 'the readiness check took longer than 0.06 s' });
    } finally {
      link.dispose();
    }
  });
});
