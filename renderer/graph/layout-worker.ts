// The layout worker: dagre runs here, off the page's main thread, so opening a 1,000-node
// model or expanding a group never freezes the page (Model Explorer does the same). It
// keeps the specs of the last few models and layout.ts keeps dagre's results by shape, so
// expanding one more group re-lays out only what changed. Bundled on its own by
// scripts/build.mjs (dist/renderer/layout-worker.js) and started by layout-client.ts.
import { layoutGraph } from './layout.js';
import { chooseInitialLayout } from './layout-choice.js';
import type { GraphSpec } from './graph-spec.js';
import type { LayoutRequest, LayoutResponse } from './layout-protocol.js';

/** The parts of DedicatedWorkerGlobalScope used here (the renderer's tsconfig has the DOM's types, not the worker's). */
interface WorkerScope {
  onmessage: ((event: MessageEvent<LayoutRequest>) => void) | null;
  postMessage(message: LayoutResponse): void;
}

const scope = self as unknown as WorkerScope;
const specs = new Map<string, GraphSpec>();
const SPECS_KEPT = 4;

scope.onmessage = (event) => {
  const request = event.data;
  if (request.type === 'spec') {
    specs.delete(request.spec.key);
    specs.set(request.spec.key, request.spec);
    if (specs.size > SPECS_KEPT) specs.delete(specs.keys().next().value as string);
    return;
  }
  const spec = specs.get(request.key);
  if (!spec) {
    scope.postMessage({ type: 'error', id: request.id, message: `no spec for model ${request.key}` });
    return;
  }
  try {
    const start = performance.now();
    const layout =
      request.type === 'layout' ? layoutGraph(spec, request.expanded) : chooseInitialLayout(spec, request.candidates, request.maxWidth, request.maxHeight);
    scope.postMessage({ type: 'layout', id: request.id, layout, ms: performance.now() - start });
  } catch (error) {
    scope.postMessage({ type: 'error', id: request.id, message: error instanceof Error ? error.message : String(error) });
  }
};
