// The page's side of the layout worker: one Worker (dist/renderer/layout-worker.js, served
// next to the page by the web host and by Electron's studio:// protocol), requests matched
// to answers by id, the spec sent once per model. Where a worker cannot start (or fails),
// the same layout code runs on the page instead, so the graph is still drawn, only with
// the page busy while it is laid out. Layouts are kept by model and expanded groups, so
// collapsing back or reopening a model is instant.
import type { GraphSpec } from './graph-spec.js';
import { chooseInitialLayout } from './layout-choice.js';
import type { LayoutRequest, LayoutResponse } from './layout-protocol.js';
import { layoutGraph, type GraphLayout } from './layout.js';

export interface TimedLayout {
  layout: GraphLayout;
  /** Time the layout itself took (in the worker, or on the page). */
  ms: number;
  /** Where it ran. */
  where: 'worker' | 'page';
}

type Pending = { resolve: (value: TimedLayout) => void; reject: (error: Error) => void };

const CACHE_SIZE = 24;

export class LayoutClient {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private readonly requests = new Map<number, LayoutRequest>();
  private nextId = 1;
  private readonly specs = new Map<string, GraphSpec>();
  private readonly sent = new Set<string>();
  private readonly cache = new Map<string, TimedLayout>();

  constructor(workerUrl: string | null) {
    if (workerUrl === null || typeof Worker === 'undefined') return;
    try {
      this.worker = new Worker(workerUrl);
      this.worker.onmessage = (event: MessageEvent<LayoutResponse>) => this.answer(event.data);
      this.worker.onerror = (event) => {
        event.preventDefault();
        this.fallBack();
      };
    } catch {
      this.worker = null;
    }
  }

  /** True while layouts run in the worker. */
  get inWorker(): boolean {
    return this.worker !== null;
  }

  /** Registers a model's spec (sent to the worker before its first layout). */
  setSpec(spec: GraphSpec): void {
    if (this.specs.get(spec.key) === spec) return;
    this.specs.set(spec.key, spec);
    this.sent.delete(spec.key);
  }

  /** A layout already made for these groups, without waiting. */
  cached(key: string, expanded: readonly number[]): TimedLayout | null {
    return this.cache.get(cacheKey(key, expanded)) ?? null;
  }

  layout(key: string, expanded: readonly number[]): Promise<TimedLayout> {
    const hit = this.cached(key, expanded);
    if (hit) return Promise.resolve(hit);
    return this.request({ type: 'layout', id: this.nextId++, key, expanded: [...expanded].sort((a, b) => a - b) });
  }

  initial(key: string, candidates: number[][], maxWidth: number, maxHeight: number): Promise<TimedLayout> {
    return this.request({ type: 'initial', id: this.nextId++, key, candidates, maxWidth, maxHeight });
  }

  dispose(): void {
    this.worker?.terminate();
    this.worker = null;
    for (const { reject } of this.pending.values()) reject(new Error('the graph was closed'));
    this.pending.clear();
  }

  private request(request: Exclude<LayoutRequest, { type: 'spec' }>): Promise<TimedLayout> {
    return new Promise<TimedLayout>((resolve, reject) => {
      const spec = this.specs.get(request.key);
      if (!spec) {
        reject(new Error(`no spec for model ${request.key}`));
        return;
      }
      if (!this.worker) {
        // No worker: lay out on the page, after the current task so the caller's frame goes first.
        setTimeout(() => {
          try {
            resolve(this.remember(this.runHere(spec, request)));
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        }, 0);
        return;
      }
      this.pending.set(request.id, { resolve, reject });
      this.requests.set(request.id, request);
      if (!this.sent.has(spec.key)) {
        this.worker.postMessage({ type: 'spec', spec } satisfies LayoutRequest);
        this.sent.add(spec.key);
      }
      this.worker.postMessage(request);
    });
  }

  private runHere(spec: GraphSpec, request: Exclude<LayoutRequest, { type: 'spec' }>): TimedLayout {
    const start = performance.now();
    const layout = request.type === 'layout' ? layoutGraph(spec, request.expanded) : chooseInitialLayout(spec, request.candidates, request.maxWidth, request.maxHeight);
    return { layout, ms: performance.now() - start, where: 'page' };
  }

  private answer(response: LayoutResponse): void {
    const pending = this.pending.get(response.id);
    this.pending.delete(response.id);
    this.requests.delete(response.id);
    if (!pending) return;
    if (response.type === 'error') pending.reject(new Error(response.message));
    else pending.resolve(this.remember({ layout: response.layout, ms: response.ms, where: 'worker' }));
  }

  private remember(timed: TimedLayout): TimedLayout {
    const key = cacheKey(timed.layout.key, timed.layout.expanded);
    this.cache.delete(key);
    this.cache.set(key, timed);
    if (this.cache.size > CACHE_SIZE) this.cache.delete(this.cache.keys().next().value as string);
    return timed;
  }

  /** The worker failed to load or crashed: answer what it owed on the page, and every later request too. */
  private fallBack(): void {
    this.worker?.terminate();
    this.worker = null;
    const owed = [...this.requests.entries()];
    this.requests.clear();
    for (const [id, request] of owed) {
      const pending = this.pending.get(id);
      this.pending.delete(id);
      const spec = this.specs.get(request.type === 'spec' ? request.spec.key : request.key);
      if (!pending || !spec || request.type === 'spec') continue;
      try {
        pending.resolve(this.remember(this.runHere(spec, request)));
      } catch (error) {
        pending.reject(error instanceof Error ? error : new Error(String(error)));
      }
    }
  }
}

function cacheKey(key: string, expanded: readonly number[]): string {
  return `${key}\u0000${[...expanded].sort((a, b) => a - b).join(',')}`;
}
