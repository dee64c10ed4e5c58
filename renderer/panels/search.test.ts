// The search box's matches (the graph's rule) and walking them, on a real model view (the zoo's LeNet).
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../../app/analysis/analyze.js';
import { readOnnxModel } from '../../app/onnx/reader.js';
import { modelViewOf } from '../../app/studio/model-view.js';
import { buildZooModel } from '../../app/zoo/index.js';
import { nextMatch, searchMatches } from './search.js';

const bytes = buildZooModel('lenet', { seed: 1 });
const model = readOnnxModel(bytes);
const view = modelViewOf(model, analyzeModel(model), { id: 'lenet', fileName: 'lenet.onnx', fileBytes: bytes.byteLength });

describe('searchMatches', () => {
  it('matches op types and names case-insensitively, in node order', () => {
    const convs = view.nodes.filter((n) => n.opType === 'Conv').map((n) => n.index);
    expect(convs.length).toBeGreaterThan(1);
    expect(searchMatches(view, 'CONV')).toEqual(convs);
    const named = view.nodes[2].name;
    expect(searchMatches(view, `  ${named.toUpperCase()} `)).toContain(2);
  });

  it('matches nothing for an empty or unknown search', () => {
    expect(searchMatches(view, '   ')).toEqual([]);
    expect(searchMatches(view, 'no-such-op')).toEqual([]);
  });
});

describe('nextMatch', () => {
  it('walks forward and backward from the selection, wrapping around', () => {
    const matches = [2, 5, 9];
    expect(nextMatch(matches, null)).toBe(2);
    expect(nextMatch(matches, null, true)).toBe(9);
    expect(nextMatch(matches, 2)).toBe(5);
    expect(nextMatch(matches, 3)).toBe(5);
    expect(nextMatch(matches, 9)).toBe(2);
    expect(nextMatch(matches, 5, true)).toBe(2);
    expect(nextMatch(matches, 2, true)).toBe(9);
    expect(nextMatch([], 4)).toBeNull();
  });
});
