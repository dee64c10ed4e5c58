// The executor on "this machine" with the real `neurosurgeon executor` command (from the
// bundle: npm run build first): the supervisor starts it and reports its URL, restarts it
// after it is killed, and stops it; the studio's executor link shows it connected with
// RTT, bandwidth and load, then unreachable while it is down, and the service profiles
// the remote side through it.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutorStatus, OpenedModel, StudioEvent, StudioEventName } from '../../app/studio/contract.js';
import { startExecutorProcess } from '../executor/executor-process.js';
import { defaultZooDir, packageRoot } from '../files/paths.js';
import { ensureZooModel } from '../model/zoo-files.js';
import { connectExecutor } from './executor-connector.js';
import { ExecutorLink } from './executor-link.js';
import { defaultExecutorArgs, executorTokenEnv, ExecutorSupervisor, type SupervisedState } from './executor-supervisor.js';
import { StudioService } from './service.js';

const TOKEN = 'supervisor-test-token';
let home: string;

beforeAll(() => {
  if (!existsSync(path.join(packageRoot(), 'dist', 'main', 'cli.js'))) throw new Error('run `npm run build` before this test');
  home = mkdtempSync(path.join(tmpdir(), 'studio-supervisor-'));
  ensureZooModel('lenet', defaultZooDir());
});

afterAll(() => rmSync(home, { recursive: true, force: true }));

function untilState(supervisor: ExecutorSupervisor, state: SupervisedState['state']): Promise<SupervisedState> {
  if (supervisor.state.state === state) return Promise.resolve(supervisor.state);
  return new Promise((resolve) => {
    const off = supervisor.onChange((next) => {
      if (next.state === state) {
        off();
        resolve(next);
      }
    });
  });
}

function untilStatus(link: ExecutorLink, match: (status: ExecutorStatus) => boolean): Promise<ExecutorStatus> {
  if (match(link.status())) return Promise.resolve(link.status());
  return new Promise((resolve) => {
    const off = link.onStatus((status) => {
      if (match(status)) {
        off();
        resolve(status);
      }
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('ExecutorSupervisor with the real executor', () => {
  it('starts it, reports it connected, restarts it after it is killed, and stops it', async () => {
    const states: SupervisedState['state'][] = [];
    const log: string[] = [];
    const supervisor = new ExecutorSupervisor({ args: defaultExecutorArgs(), env: executorTokenEnv(TOKEN), backoffMs: { initial: 200, max: 1000 }, log: (line) => log.push(line) });
    supervisor.onChange((state) => states.push(state.state));
    const link = new ExecutorLink({ connect: connectExecutor, supervisor, localToken: TOKEN, pollMs: 300, checkTimeoutMs: 5000, log: () => undefined });
    try {
      const url = await supervisor.start();
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const firstPid = supervisor.pid!;
      const connected = await untilStatus(link, (s) => s.state === 'connected' && s.uplinkMbps !== null);
      expect(connected).toMatchObject({ kind: 'local', label: 'this machine', url, state: 'connected' });
      expect(connected.rttMs).toBeGreaterThan(0);
      expect(connected.downlinkMbps).toBeGreaterThan(0);
      expect(connected.loadFactor).toBeGreaterThanOrEqual(1);

      // The executor refuses a client without its token.
      await expect(connectExecutor({ url }).load()).rejects.toThrow();

      process.kill(firstPid, 'SIGKILL');
      const restarting = await untilState(supervisor, 'restarting');
      expect(restarting).toMatchObject({ state: 'restarting', error: expect.stringMatching(/^the executor on this machine was killed \(SIGKILL\)/) });
      const lost = await untilStatus(link, (s) => s.state !== 'connected');
      expect(lost.state === 'unreachable' || lost.state === 'starting').toBe(true);
      const running = await untilState(supervisor, 'running');
      expect(running.state === 'running' && running.pid).not.toBe(firstPid);
      const back = await untilStatus(link, (s) => s.state === 'connected');
      expect(back.url).toBe(running.state === 'running' ? running.url : '');
      expect(log.some((line) => /restarting in 0\.2 s/.test(line))).toBe(true);

      const lastPid = supervisor.pid!;
      await supervisor.stop();
      expect(supervisor.state).toEqual({ state: 'stopped' });
      expect(alive(lastPid)).toBe(false);
      expect(states.slice(0, 2)).toEqual(['starting', 'running']);
      expect(states).toContain('restarting');
      expect(states.at(-1)).toBe('stopped');
    } finally {
      link.dispose();
      await supervisor.stop();
    }
  });

  it('says why when the executor cannot start at all, and keeps trying', async () => {
    const supervisor = new ExecutorSupervisor({
      args: [path.join(packageRoot(), 'bin', 'neurosurgeon.js'), 'executor', '--port', 'not-a-port'],
      backoffMs: { initial: 100, max: 200 },
      log: () => undefined
    });
    try {
      void supervisor.start().catch(() => undefined);
      const restarting = await untilState(supervisor, 'restarting');
      expect(restarting).toMatchObject({ error: 'the executor on this machine exited with code 2: neurosurgeon: --port must be a whole number from 0 to 65535, got "not-a-port"' });
      await untilState(supervisor, 'starting');
    } finally {
      await supervisor.stop();
    }
  });
});

describe('StudioService with the local executor', () => {
  it('profiles the remote side through the executor and keeps the result', async () => {
    const supervisor = new ExecutorSupervisor({ args: defaultExecutorArgs(), env: executorTokenEnv(TOKEN), log: () => undefined });
    const service = new StudioService({ host: 'web', home, connect: connectExecutor, supervisor, localExecutorToken: TOKEN, executorPollMs: 500, log: () => undefined });
    const statuses: ExecutorStatus[] = [];
    service.on((event: StudioEventName, payload: unknown) => {
      if (event === 'executor.status') statuses.push(payload as ExecutorStatus);
    });
    try {
      await service.start();
      await untilStatus(service.executor, (s) => s.state === 'connected');
      expect(statuses.map((s) => s.state)).toContain('connected');
      const opened = (await service.handle('model.openSample', { id: 'lenet' })) as OpenedModel;
      const done = new Promise<StudioEvent<'profile.done'>>((resolve) =>
        service.on((event: StudioEventName, payload: unknown) => {
          if (event === 'profile.done') resolve(payload as StudioEvent<'profile.done'>);
        })
      );
      await service.handle('profile.start', { modelId: opened.model.id, side: 'remote', ep: 'cpu', runs: 3, warmup: 1 });
      const result = await done;
      expect(result.error).toBeUndefined();
      expect(result).toMatchObject({ side: 'remote', outcome: 'done' });
      expect(result.profile?.layers).toHaveLength(opened.model.nodes.length);
      expect(result.profile?.model.sha256).toBe(opened.model.id);

      const reopened = (await service.handle('model.openSample', { id: 'lenet' })) as OpenedModel;
      expect(reopened.profiles.remote?.date).toBe(result.profile?.date);

      // A remote job cancelled at once ends cancelled and keeps the earlier result.
      const cancelled = new Promise<StudioEvent<'profile.done'>>((resolve) =>
        service.on((event: StudioEventName, payload: unknown) => {
          if (event === 'profile.done') resolve(payload as StudioEvent<'profile.done'>);
        })
      );
      const { jobId } = (await service.handle('profile.start', { modelId: opened.model.id, side: 'remote', ep: 'cpu', runs: 200, warmup: 1 })) as { jobId: string };
      expect(await service.handle('profile.cancel', { jobId })).toEqual({ cancelled: true });
      expect(await cancelled).toMatchObject({ jobId, outcome: 'cancelled', profile: null });
      expect(service.profiles.get(opened.model.id).remote?.date).toBe(result.profile?.date);
    } finally {
      await service.dispose();
    }
    expect(supervisor.state).toEqual({ state: 'stopped' });
  });
});

describe('StudioService with a remote executor', () => {
  it('connects by URL and token, remembers it, shows it lost when it goes away, and goes back to this machine', async () => {
    const remote = await startExecutorProcess(['--token', 'remote-secret']);
    const service = new StudioService({ host: 'web', home: mkdtempSync(path.join(home, 'remote-')), connect: connectExecutor, supervisor: null, executorPollMs: 300, log: () => undefined });
    try {
      await expect(service.handle('executor.connect', { url: 'http://127.0.0.1:9' })).rejects.toMatchObject({
        name: 'ExecutorConnectError',
        message: expect.stringMatching(/^cannot connect to the executor at http:\/\/127\.0\.0\.1:9: \S/)
      });
      await expect(service.handle('executor.connect', { url: remote.url, token: 'wrong' })).rejects.toMatchObject({
        name: 'ExecutorConnectError',
        message: expect.stringMatching(new RegExp(`^cannot connect to the executor at ${remote.url}: (401 )?wrong bearer token$`))
      });
      expect(service.executor.status().kind).toBe('local');

      const status = (await service.handle('executor.connect', { url: `${remote.url}/`, token: 'remote-secret' })) as ExecutorStatus;
      expect(status).toMatchObject({ kind: 'remote', url: remote.url, label: remote.url, state: 'connected' });
      expect(status.rttMs).toBeGreaterThan(0);
      expect(await service.handle('prefs.get', {})).toMatchObject({ remoteExecutor: { url: remote.url, token: 'remote-secret' } });

      await remote.stop();
      const lost = await untilStatus(service.executor, (s) => s.state === 'unreachable');
      expect(lost).toMatchObject({ kind: 'remote', url: remote.url, rttMs: null });
      expect(lost.error).toBeTruthy();

      const local = (await service.handle('executor.useLocal', {})) as ExecutorStatus;
      expect(local).toMatchObject({ kind: 'local', state: 'stopped', label: 'this machine' });
      expect(await service.handle('prefs.get', {})).toMatchObject({ remoteExecutor: null });
    } finally {
      await remote.stop();
      await service.dispose();
    }
  });
});
