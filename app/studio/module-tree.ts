// Groups of layers from the module hierarchy their names carry, as Google's Model Explorer
// shows them: PyTorch's exporter names a node after the module that ran it
// ("/layer1/layer1.0/conv1/Conv" is the Conv of module layer1 › layer1.0 › conv1), so the
// path before the last segment is its module. The studio's graph collapses and expands
// these groups; the CLI or a report could use them too, hence app/.
//
// Groups are contiguous in topological order: a group is opened when a layer's path enters
// it and closed by the first layer outside it, so a module called twice (one activation
// module reused) becomes two groups. That keeps every group a range [first, last] of layer
// indices: collapsing groups never makes a cycle, a topological cut k falls inside a group
// exactly when first < k ≤ last, and a group's sums are two prefix-sum lookups.
//
// The tree is tidied the way a person would draw it: a group holding one layer is that
// layer, and a group whose only child is another group merges with it ("features.1 ›
// block" is one group, labelled "features.1/block").

/** A child of a group (or of the root): a layer by index, or a group by id. */
export type ModuleChild = { kind: 'layer'; index: number } | { kind: 'group'; id: number };

export interface ModuleGroup {
  /** Position in ModuleTree.groups: parents come before their children, siblings in order. */
  id: number;
  /** The module path, "layer1/layer1.0" (segments joined with '/'). */
  path: string;
  /** What the graph prints: the last segment, or the merged segments ("features.1/block"). */
  label: string;
  /** Parent group id, -1 for a top-level group. */
  parent: number;
  /** 0 for top-level groups. */
  depth: number;
  /** First and last layer index it holds (inclusive): its layers are exactly this range. */
  first: number;
  last: number;
  children: ModuleChild[];
}

export interface ModuleTree {
  groups: ModuleGroup[];
  /** Top-level children: layers outside any group and top-level groups, in order. */
  root: ModuleChild[];
  /** Per layer: the innermost group holding it, -1 for a top-level layer. */
  groupOf: Int32Array;
}

/** The module path of a node name: its segments without the last (the op's own name). */
export function modulePath(name: string): string[] {
  const segments = name.split('/').filter((segment) => segment !== '');
  return segments.slice(0, -1);
}

interface RawGroup {
  segment: string;
  path: string[];
  parent: RawGroup | null;
  children: Array<{ kind: 'layer'; index: number } | { kind: 'group'; group: RawGroup }>;
}

/** Builds the tree of groups from layer names in topological order; see the file comment. */
export function moduleTree(names: readonly string[]): ModuleTree {
  const top: RawGroup = { segment: '', path: [], parent: null, children: [] };
  const open: RawGroup[] = [];
  names.forEach((name, index) => {
    const path = modulePath(name);
    let keep = 0;
    while (keep < open.length && keep < path.length && open[keep].segment === path[keep]) keep++;
    open.length = keep;
    for (let depth = keep; depth < path.length; depth++) {
      const parent = depth === 0 ? top : open[depth - 1];
      const group: RawGroup = { segment: path[depth], path: path.slice(0, depth + 1), parent, children: [] };
      parent.children.push({ kind: 'group', group });
      open.push(group);
    }
    (path.length === 0 ? top : open[path.length - 1]).children.push({ kind: 'layer', index });
  });

  const groups: ModuleGroup[] = [];
  const groupOf = new Int32Array(names.length).fill(-1);

  /** Emits the tidied children of a raw group under `parent` (-1: the root). */
  const emit = (raw: RawGroup, parent: number, depth: number): ModuleChild[] => {
    const out: ModuleChild[] = [];
    for (const child of raw.children) {
      if (child.kind === 'layer') {
        groupOf[child.index] = parent;
        out.push(child);
        continue;
      }
      // Merge a chain of single-group groups into one, collecting their segments.
      let group = child.group;
      const segments = [group.segment];
      while (group.children.length === 1 && group.children[0].kind === 'group') {
        group = group.children[0].group;
        segments.push(group.segment);
      }
      const layers = layerCount(group);
      if (layers === 1) {
        out.push(...emit(group, parent, depth));
        continue;
      }
      const id = groups.length;
      const entry: ModuleGroup = { id, path: group.path.join('/'), label: mergedLabel(segments), parent, depth, first: 0, last: 0, children: [] };
      groups.push(entry);
      entry.children = emit(group, id, depth + 1);
      entry.first = firstLayer(groups, entry.children[0]);
      entry.last = lastLayer(groups, entry.children[entry.children.length - 1]);
      out.push({ kind: 'group', id });
    }
    return out;
  };
  const root = emit(top, -1, 0);
  return { groups, root, groupOf };
}

function layerCount(group: RawGroup): number {
  let count = 0;
  for (const child of group.children) count += child.kind === 'layer' ? 1 : layerCount(child.group);
  return count;
}

function firstLayer(groups: ModuleGroup[], child: ModuleChild): number {
  return child.kind === 'layer' ? child.index : groups[child.id].first;
}

function lastLayer(groups: ModuleGroup[], child: ModuleChild): number {
  return child.kind === 'layer' ? child.index : groups[child.id].last;
}

/** "features.1" + "features.1.0" + "block" → "features.1.0/block": a segment that extends the one before replaces it. */
function mergedLabel(segments: string[]): string {
  const kept: string[] = [];
  for (const segment of segments) {
    if (kept.length > 0 && segment.startsWith(kept[kept.length - 1])) kept[kept.length - 1] = segment;
    else kept.push(segment);
  }
  return kept.join('/');
}

/** Number of layers a group holds. */
export function groupSize(group: ModuleGroup): number {
  return group.last - group.first + 1;
}

/** The group's ancestors, outermost first, the group itself last. */
export function groupChain(tree: ModuleTree, id: number): number[] {
  const chain: number[] = [];
  for (let g = id; g >= 0; g = tree.groups[g].parent) chain.push(g);
  return chain.reverse();
}

/** The groups holding a layer, outermost first (empty for a top-level layer). */
export function layerChain(tree: ModuleTree, index: number): number[] {
  const innermost = tree.groupOf[index] ?? -1;
  return innermost < 0 ? [] : groupChain(tree, innermost);
}

/**
 * Per group, the sum over its layers of a per-layer quantity (MACs, params, latency);
 * null values count as 0. O(layers + groups) with a prefix sum, since groups are ranges.
 */
export function groupSums(tree: ModuleTree, perLayer: ArrayLike<number | null>): Float64Array {
  const prefix = new Float64Array(perLayer.length + 1);
  for (let i = 0; i < perLayer.length; i++) prefix[i + 1] = prefix[i] + (perLayer[i] ?? 0);
  const sums = new Float64Array(tree.groups.length);
  for (const group of tree.groups) sums[group.id] = prefix[group.last + 1] - prefix[group.first];
  return sums;
}

/** How many layers of each group run on the device, given a 0/1 mask over the layers. */
export function groupLocalCounts(tree: ModuleTree, isLocal: ArrayLike<number>): Int32Array {
  const prefix = new Int32Array(isLocal.length + 1);
  for (let i = 0; i < isLocal.length; i++) prefix[i + 1] = prefix[i] + (isLocal[i] !== 0 ? 1 : 0);
  const counts = new Int32Array(tree.groups.length);
  for (const group of tree.groups) counts[group.id] = prefix[group.last + 1] - prefix[group.first];
  return counts;
}

/** The groups that must be expanded for a layer to be drawn as itself. */
export function groupsToReveal(tree: ModuleTree, index: number, expanded: ReadonlySet<number>): number[] {
  return layerChain(tree, index).filter((group) => !expanded.has(group));
}
