// The path field's completion: what folder is listed for the text typed, which entries
// match, and what choosing one writes into the field.
import { describe, expect, it } from 'vitest';
import type { FolderEntry } from '../../app/studio/contract.js';
import { completedText, matchingEntries, typedPath } from './path-completion.js';

const entries: FolderEntry[] = [
  { name: 'models', path: '/home/me/models', kind: 'folder', bytes: null },
  { name: 'Movies', path: '/home/me/Movies', kind: 'folder', bytes: null },
  { name: 'mobilenet.onnx', path: '/home/me/mobilenet.onnx', kind: 'model', bytes: 14_000_000 },
  { name: 'resnet50.onnx', path: '/home/me/resnet50.onnx', kind: 'model', bytes: 102_000_000 }
];

describe('path completion', () => {
  it('lists the folder up to the last separator and matches the rest', () => {
    expect(typedPath('/home/me/mo')).toEqual({ dir: '/home/me', prefix: 'mo' });
    expect(typedPath('/home/me/')).toEqual({ dir: '/home/me', prefix: '' });
    expect(typedPath('/ho')).toEqual({ dir: '/', prefix: 'ho' });
    expect(typedPath('C:\\Users\\me\\mod')).toEqual({ dir: 'C:\\Users\\me', prefix: 'mod' });
    expect(typedPath('C:\\x')).toEqual({ dir: 'C:\\', prefix: 'x' });
    expect(typedPath('')).toEqual({ dir: '', prefix: '' });
    expect(typedPath('res')).toEqual({ dir: '', prefix: 'res' });
  });

  it('offers the entries starting with what is typed, folders first, in any case', () => {
    expect(matchingEntries(entries, typedPath('/home/me/mo')).map((entry) => entry.name)).toEqual(['models', 'Movies', 'mobilenet.onnx']);
    expect(matchingEntries(entries, typedPath('/home/me/R')).map((entry) => entry.name)).toEqual(['resnet50.onnx']);
    expect(matchingEntries(entries, typedPath('/home/me/x'))).toEqual([]);
    // At the starting points any part of the folder's path matches.
    expect(matchingEntries(entries.slice(0, 2), typedPath('mov')).map((entry) => entry.name)).toEqual(['Movies']);
  });

  it('completes a folder with its separator and a model with its path', () => {
    expect(completedText(entries[0])).toBe('/home/me/models/');
    expect(completedText(entries[3])).toBe('/home/me/resnet50.onnx');
    expect(completedText({ name: 'models', path: 'C:\\Users\\me\\models', kind: 'folder', bytes: null })).toBe('C:\\Users\\me\\models\\');
  });
});
