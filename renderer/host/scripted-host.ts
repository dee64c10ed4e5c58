// A StudioHost for the store's tests: it answers requests from a script of handlers and
// delivers events the test emits, every message checked against the contract as the real
// hosts check them. The real hosts are covered end to end in e2e/.
import {
  checkEvent,
  checkParams,
  checkResult,
  type StudioEvent,
  type StudioEventName,
  type StudioHost,
  type StudioMethod,
  type StudioParams,
  type StudioResult
} from '../../app/studio/contract.js';

export type Handlers = { [M in StudioMethod]?: (params: StudioParams<M>) => StudioResult<M> | Promise<StudioResult<M>> };

/** A StudioHost answering from `handlers`, with events the test emits. */
export class ScriptedHost implements StudioHost {
  readonly calls: { method: StudioMethod; params: unknown }[] = [];
  private readonly listeners = new Map<string, Set<(payload: never) => void>>();
  constructor(private readonly handlers: Handlers) {}

  async request<M extends StudioMethod>(method: M, params: StudioParams<M>): Promise<StudioResult<M>> {
    this.calls.push({ method, params: checkParams(method, params) });
    const handler = this.handlers[method] as ((p: StudioParams<M>) => StudioResult<M> | Promise<StudioResult<M>>) | undefined;
    if (!handler) throw Object.assign(new Error(`${method} is not scripted`), { name: 'ContractError' });
    return checkResult(method, await handler(params));
  }

  on<E extends StudioEventName>(event: E, listener: (payload: StudioEvent<E>) => void): () => void {
    const set = this.listeners.get(event) ?? new Set();
    this.listeners.set(event, set);
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  emit<E extends StudioEventName>(event: E, payload: StudioEvent<E>): void {
    const checked = checkEvent(event, payload);
    for (const listener of this.listeners.get(event) ?? []) (listener as (p: StudioEvent<E>) => void)(checked);
  }

  called(method: StudioMethod): number {
    return this.calls.filter((call) => call.method === method).length;
  }
}
