// The first view of a model: how deep to open its module hierarchy. Whole levels are
// expanded, outermost first, as long as the layout still fits a size at which "Fit" keeps
// labels readable; a model that fits fully expanded opens fully expanded. Pure; runs in
// the layout worker (or on the page when there is no worker) and in tests.
import type { ModuleTree } from '../../app/studio/module-tree.js';
import type { GraphSpec } from './graph-spec.js';
import { layoutGraph, type GraphLayout } from './layout.js';

/** Expansion candidates, shallowest first: none, then every group of depth 0, then of depth ≤ 1, … */
export function expansionLevels(tree: ModuleTree): number[][] {
  const maxDepth = tree.groups.reduce((deepest, group) => Math.max(deepest, group.depth), -1);
  const levels: number[][] = [[]];
  for (let depth = 0; depth <= maxDepth; depth++) levels.push(tree.groups.filter((group) => group.depth <= depth).map((group) => group.id));
  return levels;
}

/** The layout of the deepest candidate that fits in maxWidth × maxHeight (layout units), else of the first. */
export function chooseInitialLayout(spec: GraphSpec, candidates: number[][], maxWidth: number, maxHeight: number): GraphLayout {
  let chosen = layoutGraph(spec, candidates[0] ?? []);
  for (let k = 1; k < candidates.length; k++) {
    const next = layoutGraph(spec, candidates[k]);
    if (next.width > maxWidth || next.height > maxHeight) break;
    chosen = next;
  }
  return chosen;
}
