// Walking the search matches with Enter / Shift+Enter. Which nodes match is the graph's
// own rule (graph/graph-spec.ts searchNodes: name or op type, case-insensitive), so Enter in
// the search box walks exactly the nodes the graph highlights.
export { searchNodes as searchMatches } from '../graph/graph-spec.js';

/** The match after (or, backwards, before) the selected node, wrapping around. */
export function nextMatch(matches: number[], selected: number | null, backwards = false): number | null {
  if (matches.length === 0) return null;
  if (selected === null) return backwards ? matches[matches.length - 1] : matches[0];
  if (backwards) {
    for (let i = matches.length - 1; i >= 0; i--) if (matches[i] < selected) return matches[i];
    return matches[matches.length - 1];
  }
  for (const index of matches) if (index > selected) return index;
  return matches[0];
}
