// The top toolbar: open a file (in a browser the Open panel — a path on the studio's
// machine, with completion, or an upload; in Electron the native chooser — plus recent
// files and samples), search the graph, the profiling controls (provider, runs, Profile
// local / Profile remote), the executor, and the theme toggle.
import { useMemo, type KeyboardEvent, type RefObject } from 'react';
import { DEFAULT_PROFILE_RUNS, type ExecutionProviderName } from '../../app/profiling/types.js';
import { resolveTheme, useStudio } from '../store.js';
import { ExecutorButton } from './ExecutorPanel.js';
import { formatWhen } from './format.js';
import { ClockIcon, MoonIcon, OpenIcon, PlayIcon, SearchIcon, SunIcon } from './icons.js';
import { NumberField } from './NumberField.js';
import { OpenPanel } from './OpenPanel.js';
import { Popover } from './Popover.js';
import { nextMatch, searchMatches } from './search.js';

export const providerTitles: Record<ExecutionProviderName, string> = {
  cpu: 'CPU',
  webgpu: 'WebGPU',
  cuda: 'CUDA',
  dml: 'DirectML',
  coreml: 'Core ML'
};

function RecentMenu({ disabled }: { disabled: boolean }) {
  const recent = useStudio((state) => state.recent);
  const samples = useStudio((state) => state.info?.samples);
  const openPath = useStudio((state) => state.openPath);
  const openSample = useStudio((state) => state.openSample);
  return (
    <Popover label={<ClockIcon />} title="Open Recent" testId="recent-button" disabled={disabled}>
      {(close) => (
        <div className="menu" role="menu">
          <div className="menu-heading">Recent</div>
          {recent.length === 0 && <div className="menu-empty">No recent files</div>}
          {recent.map((file) => (
            <button
              key={file.path}
              type="button"
              role="menuitem"
              className="menu-item"
              title={file.path}
              onClick={() => {
                close();
                void openPath(file.path);
              }}
            >
              <span className="menu-item-main">{file.fileName}</span>
              <span className="menu-item-side">
                {file.uploaded ? 'uploaded · ' : ''}
                {formatWhen(file.openedAt, new Date())}
              </span>
            </button>
          ))}
          {samples && samples.length > 0 && <div className="menu-heading">Samples</div>}
          {samples?.map((sample) => (
            <button
              key={sample.id}
              type="button"
              role="menuitem"
              className="menu-item"
              onClick={() => {
                close();
                void openSample(sample.id);
              }}
            >
              <span className="menu-item-main">{sample.title}</span>
              <span className="menu-item-side mono">{sample.id}</span>
            </button>
          ))}
        </div>
      )}
    </Popover>
  );
}

function SearchBox({ inputRef }: { inputRef: RefObject<HTMLInputElement | null> }) {
  const model = useStudio((state) => state.current?.model ?? null);
  const search = useStudio((state) => state.search);
  const selected = useStudio((state) => state.selected);
  const setSearch = useStudio((state) => state.setSearch);
  const select = useStudio((state) => state.select);
  const matches = useMemo(() => (model ? searchMatches(model, search) : []), [model, search]);
  const position = selected === null ? -1 : matches.indexOf(selected);

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      const index = nextMatch(matches, selected, event.shiftKey);
      if (index !== null) select(index, { focus: true });
    } else if (event.key === 'Escape') {
      event.stopPropagation();
      setSearch('');
      event.currentTarget.blur();
    }
  };

  return (
    <div className={`search-box ${search && matches.length === 0 ? 'no-match' : ''}`}>
      <SearchIcon />
      <input
        ref={inputRef}
        type="search"
        placeholder="Search nodes by name or op  (Ctrl+F)"
        aria-label="Search nodes by name or op"
        value={search}
        disabled={!model}
        onChange={(event) => setSearch(event.target.value)}
        onKeyDown={onKeyDown}
        data-testid="search-input"
        spellCheck={false}
      />
      {search.trim() !== '' && (
        <span className="search-count" data-testid="search-count">
          {matches.length === 0 ? 'no match' : position >= 0 ? `${position + 1} of ${matches.length}` : `${matches.length} found`}
        </span>
      )}
    </div>
  );
}

function ProfileControls() {
  const providers = useStudio((state) => state.providers);
  const prefs = useStudio((state) => state.prefs);
  const setPrefs = useStudio((state) => state.setPrefs);
  const startProfile = useStudio((state) => state.startProfile);
  const hasModel = useStudio((state) => state.current !== null);
  const localBusy = useStudio((state) => state.jobs.local !== undefined);
  const remoteBusy = useStudio((state) => state.jobs.remote !== undefined);
  const executorState = useStudio((state) => state.executor?.state);
  const offline = useStudio((state) => state.connectionLost !== null);
  const localEp = prefs?.localEp ?? 'cpu';
  const listed = providers.length > 0 ? providers : [{ name: localEp, available: true }];
  const remoteReady = executorState === 'connected';

  return (
    <div className="tool-group profile-controls">
      <label className="tool-field" title="Execution provider for profiling on this machine">
        <span className="tool-field-label">Provider</span>
        <select
          value={localEp}
          onChange={(event) => void setPrefs({ localEp: event.target.value as ExecutionProviderName })}
          disabled={!prefs}
          data-testid="provider-select"
        >
          {listed.map((provider) => (
            <option key={provider.name} value={provider.name} disabled={!provider.available} title={'reason' in provider ? provider.reason : undefined}>
              {providerTitles[provider.name]}
              {provider.available ? '' : ' (unavailable)'}
            </option>
          ))}
        </select>
      </label>
      <label className="tool-field" title="Profiled runs per side (the median of these is kept)">
        <span className="tool-field-label">Runs</span>
        <NumberField value={prefs?.profileRuns ?? DEFAULT_PROFILE_RUNS} min={1} max={1000} disabled={!prefs} onCommit={(runs) => void setPrefs({ profileRuns: runs })} data-testid="runs-input" />
      </label>
      <button
        type="button"
        className="tool-button accent"
        disabled={!hasModel || localBusy || offline}
        onClick={() => void startProfile('local')}
        title={`Measure every layer on this machine with ${providerTitles[localEp]}`}
        data-testid="profile-local"
      >
        <PlayIcon />
        Profile local
      </button>
      <button
        type="button"
        className="tool-button accent-2"
        disabled={!hasModel || remoteBusy || offline || !remoteReady}
        onClick={() => void startProfile('remote')}
        title={remoteReady ? 'Measure every layer on the executor' : 'The executor is not connected'}
        data-testid="profile-remote"
      >
        <PlayIcon />
        Profile remote
      </button>
    </div>
  );
}

export interface ToolbarProps {
  /** Shows the file chooser (Electron: opens the file by path; browser: uploads it). */
  onChooseFile: () => void;
  /** The browser's Open panel, open or not (App opens it on Ctrl+O too); absent in Electron. */
  openPanel?: { open: boolean; setOpen: (open: boolean) => void };
  searchRef: RefObject<HTMLInputElement | null>;
}

export function Toolbar({ onChooseFile, openPanel, searchRef }: ToolbarProps) {
  const theme = useStudio((state) => state.prefs?.theme);
  const toggleTheme = useStudio((state) => state.toggleTheme);
  const offline = useStudio((state) => state.connectionLost !== null);
  const dark = resolveTheme(theme, typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches) === 'dark';

  return (
    <header className="toolbar" role="toolbar" aria-label="Studio">
      <div className="brand" title="Neurosurgeon Studio">
        <span className="brand-mark" aria-hidden="true" />
        Neurosurgeon
      </div>
      <div className="tool-group">
        {openPanel ? (
          <Popover
            label={
              <>
                <OpenIcon />
                Open
              </>
            }
            title="Open an ONNX model (Ctrl+O)"
            testId="open-button"
            disabled={offline}
            open={openPanel.open}
            onOpenChange={openPanel.setOpen}
          >
            {(close) => <OpenPanel close={close} chooseFile={onChooseFile} />}
          </Popover>
        ) : (
          <button type="button" className="tool-button" onClick={onChooseFile} disabled={offline} title="Open an ONNX model (Ctrl+O)" data-testid="open-button">
            <OpenIcon />
            Open
          </button>
        )}
        <RecentMenu disabled={offline} />
      </div>
      <SearchBox inputRef={searchRef} />
      <div className="toolbar-spacer" />
      <ProfileControls />
      <div className="tool-group">
        <ExecutorButton />
        <button
          type="button"
          className="tool-button icon-only"
          onClick={toggleTheme}
          title={dark ? 'Switch to the light theme (Ctrl+Shift+D)' : 'Switch to the dark theme (Ctrl+Shift+D)'}
          aria-label="Toggle dark mode"
          data-testid="theme-toggle"
        >
          {dark ? <SunIcon /> : <MoonIcon />}
        </button>
      </div>
    </header>
  );
}
