// The messages between the page (layout-client.ts) and the layout worker
// (layout-worker.ts): the page sends a model's spec once, then asks for layouts by the
// groups expanded; the worker answers with the layout and how long it took.
import type { GraphSpec } from './graph-spec.js';
import type { GraphLayout } from './layout.js';

export type LayoutRequest =
  | { type: 'spec'; spec: GraphSpec }
  /** The layout with these groups expanded. */
  | { type: 'layout'; id: number; key: string; expanded: number[] }
  /**
   * The first layout of a model: the deepest of `candidates` (each a set of expanded
   * groups, shallowest first) whose layout fits in maxWidth × maxHeight, else the first.
   */
  | { type: 'initial'; id: number; key: string; candidates: number[][]; maxWidth: number; maxHeight: number };

export type LayoutResponse = { type: 'layout'; id: number; layout: GraphLayout; ms: number } | { type: 'error'; id: number; message: string };
