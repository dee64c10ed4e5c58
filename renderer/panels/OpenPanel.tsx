// The Open panel of the web host (the toolbar's Open button, Ctrl+O): a path field for a
// model on the machine the studio runs on — opened where it lies, as fast as from the
// command line — with completion from 'files.list' (the home folder, the folders of
// recent files and what lies under them; any full path can still be typed), and a button
// that uploads a file from this computer instead (streamed in chunks, with progress and
// cancel, for files the studio's machine cannot see). Keys: ↓/↑ move through the
// suggestions, Tab completes, Enter opens (or enters a suggested folder), Esc closes.
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { FolderListing } from '../../app/studio/contract.js';
import { formatBytes } from '../format.js';
import { errorMessage, useStudio } from '../store.js';
import { completedText, matchingEntries, typedPath } from './path-completion.js';

export interface OpenPanelProps {
  /** Closes the panel (after a choice). */
  close: () => void;
  /** Shows the browser's file chooser, to upload a file. */
  chooseFile: () => void;
}

const MAX_SHOWN = 60;

export function OpenPanel({ close, chooseFile }: OpenPanelProps) {
  const host = useStudio((state) => state.host);
  const openPath = useStudio((state) => state.openPath);
  const recent = useStudio((state) => state.recent);
  // Start in the folder of the latest file opened by path, else at the starting points.
  const [text, setText] = useState(() => {
    const last = recent.find((entry) => !entry.uploaded);
    if (!last) return '';
    const cut = Math.max(last.path.lastIndexOf('/'), last.path.lastIndexOf('\\'));
    return cut >= 0 ? last.path.slice(0, cut + 1) : '';
  });
  const [listings, setListings] = useState<Record<string, FolderListing | { error: string }>>({});
  const [highlight, setHighlight] = useState(-1);
  const input = useRef<HTMLInputElement>(null);
  const typed = useMemo(() => typedPath(text), [text]);
  const listing = listings[typed.dir];

  useEffect(() => input.current?.focus(), []);
  useEffect(() => {
    if (listings[typed.dir]) return;
    let stale = false;
    host.request('files.list', { dir: typed.dir }).then(
      (result) => !stale && setListings((known) => ({ ...known, [typed.dir]: result })),
      (error: unknown) => !stale && setListings((known) => ({ ...known, [typed.dir]: { error: errorMessage(error) } }))
    );
    return () => {
      stale = true;
    };
  }, [host, typed.dir, listings]);

  const suggestions = listing && 'entries' in listing ? matchingEntries(listing.entries, typed).slice(0, MAX_SHOWN) : [];
  useEffect(() => setHighlight(-1), [text]);

  const openTyped = (path: string) => {
    if (path.trim() === '') return;
    close();
    void openPath(path.trim());
  };
  const choose = (index: number) => {
    const entry = suggestions[index];
    if (!entry) return;
    if (entry.kind === 'model') openTyped(entry.path);
    else {
      setText(completedText(entry));
      input.current?.focus();
    }
  };
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      if (suggestions.length === 0) return;
      const step = event.key === 'ArrowDown' ? 1 : -1;
      // -1 is the field itself: moving past either end comes back to it.
      setHighlight((current) => {
        const next = current + step;
        return next >= suggestions.length ? -1 : next < -1 ? suggestions.length - 1 : next;
      });
    } else if (event.key === 'Tab' && suggestions.length > 0 && !event.shiftKey) {
      event.preventDefault();
      setText(completedText(suggestions[Math.max(0, highlight)] ?? suggestions[0]));
    } else if (event.key === 'Enter') {
      event.preventDefault();
      if (highlight >= 0 && highlight < suggestions.length) choose(highlight);
      else openTyped(text);
    }
  };

  return (
    <div className="open-panel" data-testid="open-panel">
      <div className="panel-title">Open a model</div>
      <label className="open-label" htmlFor="open-path">
        Path on the machine the studio runs on
      </label>
      <div className="open-path-row">
        <input
          ref={input}
          id="open-path"
          type="text"
          className="open-path"
          spellCheck={false}
          autoComplete="off"
          placeholder="/home/you/models/resnet50.onnx"
          value={text}
          role="combobox"
          aria-expanded={suggestions.length > 0}
          aria-controls="open-suggestions"
          aria-activedescendant={highlight >= 0 ? `open-suggestion-${highlight}` : undefined}
          onChange={(event) => setText(event.target.value)}
          onKeyDown={onKeyDown}
          data-testid="open-path"
        />
        <button type="button" className="primary-button" disabled={text.trim() === ''} onClick={() => openTyped(text)} data-testid="open-path-button">
          Open
        </button>
      </div>
      <ul className="open-suggestions" id="open-suggestions" role="listbox" aria-label="Folders and models" data-testid="open-suggestions">
        {listing && 'error' in listing && <li className="open-note muted">{listing.error}</li>}
        {!listing && <li className="open-note muted">Listing {typed.dir || 'your folders'}…</li>}
        {listing && 'entries' in listing && suggestions.length === 0 && (
          <li className="open-note muted">{listing.entries.length === 0 ? 'No subfolders or .onnx files here' : `Nothing here starts with “${typed.prefix}”`}</li>
        )}
        {suggestions.map((entry, index) => (
          <li
            key={entry.path}
            id={`open-suggestion-${index}`}
            role="option"
            aria-selected={index === highlight}
            className={`open-suggestion ${index === highlight ? 'active' : ''}`}
            title={entry.path}
            onMouseDown={(event) => event.preventDefault()}
            onClick={() => choose(index)}
          >
            <span className={`open-kind open-kind-${entry.kind}`} aria-hidden="true">
              {entry.kind === 'folder' ? '▸' : '◆'}
            </span>
            <span className="open-name">{typed.dir === '' ? entry.path : entry.name}</span>
            <span className="open-size muted">{entry.kind === 'model' ? formatBytes(entry.bytes) : 'folder'}</span>
          </li>
        ))}
        {listing && 'truncated' in listing && listing.truncated && <li className="open-note muted">More entries than shown: type more of the name</li>}
      </ul>
      <div className="open-upload">
        <button
          type="button"
          className="tool-button small"
          onClick={() => {
            close();
            chooseFile();
          }}
          data-testid="open-upload"
        >
          Upload a file from this computer…
        </button>
        <span className="muted">copies it into the studio&apos;s folder, with progress; for files the studio&apos;s machine cannot see</span>
      </div>
    </div>
  );
}
