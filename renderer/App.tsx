// The studio window: toolbar, what is opening and running jobs on top, banners floating
// under them, the graph on the left (GraphPane: module groups, the shown partition,
// overlays, minimap), node details on the right, the decision at the bottom (network
// conditions, per-layer charts and the per-split chart with its stars, and tabs for the
// rest: BottomPane), and the status bar. App wires the store to the views (props only:
// GraphPane, LayerCharts, NodeDetails know nothing of the store or the contract), and owns
// the window-wide behaviour: opening files (the Open panel or chooser, Ctrl+O, drag and
// drop, the Electron menu), keyboard shortcuts, the theme, and the pane sizes.
import { useCallback, useDeferredValue, useEffect, useRef, useState, type ChangeEvent } from 'react';
import { OpeningStagesProvider } from './opening/opening-stages.js';
import { LayerCharts } from './charts/LayerCharts.js';
import { NodeDetails } from './details/NodeDetails.js';
import { GraphPane } from './graph/GraphPane.js';
import { BannerArea } from './panels/BannerArea.js';
import { OpenProgress } from './panels/OpenProgress.js';
import { ProfileJobs } from './panels/ProfileJobs.js';
import { Splitter } from './panels/Splitter.js';
import { StatusBar } from './panels/StatusBar.js';
import { Toolbar } from './panels/Toolbar.js';
import { BottomPane } from './split/BottomPane.js';
import { currentProfiles, errorMessage, resolveTheme, useStudio } from './store.js';

const systemDark = () => typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)');

/** Applies the theme preference to <html data-theme>, following the OS when it is 'system'. */
function useTheme() {
  const theme = useStudio((state) => state.prefs?.theme);
  useEffect(() => {
    const query = systemDark();
    const apply = () => {
      document.documentElement.dataset.theme = resolveTheme(theme, query ? query.matches : false);
    };
    apply();
    if (!query || theme !== 'system') return;
    query.addEventListener('change', apply);
    return () => query.removeEventListener('change', apply);
  }, [theme]);
}

/** Files dragged over the window: an overlay while dragging, the first .onnx file opened on drop. */
function useFileDrop(openFile: (file: File) => void): boolean {
  const [dragging, setDragging] = useState(false);
  useEffect(() => {
    let depth = 0;
    const carriesFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false;
    const onEnter = (event: DragEvent) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth++;
      setDragging(true);
    };
    const onOver = (event: DragEvent) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
    };
    const onLeave = (event: DragEvent) => {
      if (!carriesFiles(event)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) setDragging(false);
    };
    const onDrop = (event: DragEvent) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth = 0;
      setDragging(false);
      const file = event.dataTransfer?.files[0];
      if (file) openFile(file);
    };
    window.addEventListener('dragenter', onEnter);
    window.addEventListener('dragover', onOver);
    window.addEventListener('dragleave', onLeave);
    window.addEventListener('drop', onDrop);
    return () => {
      window.removeEventListener('dragenter', onEnter);
      window.removeEventListener('dragover', onOver);
      window.removeEventListener('dragleave', onLeave);
      window.removeEventListener('drop', onDrop);
    };
  }, [openFile]);
  return dragging;
}

function isTyping(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName));
}

/** The bottom pane's first height: enough for the decision's charts, leaving the graph most of a short window. */
export function defaultBottomHeight(windowHeight: number): number {
  return Math.round(Math.min(460, Math.max(280, windowHeight * 0.42)));
}

/** A pane size the user dragged, remembered in this browser profile. */
function usePaneSize(key: string, initial: number): [number, (size: number) => void] {
  const [size, setSize] = useState(() => {
    const stored = Number(localStorage.getItem(key));
    return Number.isFinite(stored) && stored > 0 ? stored : initial;
  });
  const update = useCallback(
    (next: number) => {
      setSize(next);
      localStorage.setItem(key, String(Math.round(next)));
    },
    [key]
  );
  return [size, update];
}

function EmptyState({ opening }: { opening: string | null }) {
  return (
    <div className="empty-state">
      {opening ? (
        <>
          <span className="spinner large" aria-hidden="true" />
          <div>Opening {opening}…</div>
        </>
      ) : (
        <>
          <div className="empty-title">No model open</div>
          <div className="muted">Open an ONNX file (Ctrl+O) or drop one anywhere in this window.</div>
        </>
      )}
    </div>
  );
}

export function App() {
  const host = useStudio((state) => state.host);
  const current = useStudio((state) => state.current);
  const opening = useStudio((state) => state.opening);
  const selected = useStudio((state) => state.selected);
  const search = useStudio((state) => state.search);
  const focusRequest = useStudio((state) => state.focusRequest);
  const profiles = useStudio(currentProfiles);
  const select = useStudio((state) => state.select);
  const openFile = useStudio((state) => state.openFile);
  const toggleTheme = useStudio((state) => state.toggleTheme);
  const pushBanner = useStudio((state) => state.pushBanner);

  const fileInput = useRef<HTMLInputElement>(null);
  const searchInput = useRef<HTMLInputElement>(null);
  const [detailsWidth, setDetailsWidth] = usePaneSize('studio.detailsWidth', 340);
  const [chartsHeight, setChartsHeight] = usePaneSize('studio.bottomHeight', defaultBottomHeight(window.innerHeight));
  const [openPanelShown, setOpenPanelShown] = useState(false);

  useTheme();
  const openDropped = useCallback((file: File) => void openFile(file), [openFile]);
  const dragging = useFileDrop(openDropped);
  const offline = useStudio((state) => state.connectionLost !== null);
  const chooseFile = useCallback(() => {
    if (!offline) fileInput.current?.click();
  }, [offline]);
  // In a browser, Open shows the Open panel (a path on the studio's machine, or an upload);
  // in Electron the file chooser gives a path.
  const inBrowser = useStudio((state) => state.info?.host !== 'electron');
  const openModel = useCallback(() => {
    if (offline) return;
    if (inBrowser) setOpenPanelShown(true);
    else fileInput.current?.click();
  }, [offline, inBrowser]);

  const onFileChosen = (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    // Reset so that choosing the same file again still fires a change.
    event.target.value = '';
    if (file) void openFile(file);
  };

  // In Electron, Ctrl+O and Ctrl+Shift+D belong to the app menu (a native Open dialog, and
  // a menu.command for the theme); the page handles them only in a browser.
  const menuOwnsShortcuts = useStudio((state) => state.info?.host === 'electron');

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const mod = event.ctrlKey || event.metaKey;
      const key = event.key.toLowerCase();
      if (menuOwnsShortcuts && mod && (key === 'o' || (event.shiftKey && key === 'd'))) return;
      if (mod && !event.shiftKey && key === 'o') {
        event.preventDefault();
        openModel();
      } else if (mod && !event.shiftKey && key === 'f') {
        event.preventDefault();
        searchInput.current?.focus();
        searchInput.current?.select();
      } else if (mod && event.shiftKey && key === 'd') {
        event.preventDefault();
        toggleTheme();
      } else if (event.key === 'Escape' && !isTyping(event.target)) {
        select(null);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [openModel, select, toggleTheme, menuOwnsShortcuts]);

  useEffect(
    () =>
      host.on('menu.command', ({ command }) => {
        if (command === 'open') openModel();
        else if (command === 'toggle-theme') toggleTheme();
        else if (command === 'reload') window.location.reload();
        else if (command === 'export') pushBanner('info', 'Export a partition from the bottom pane\u2019s "Export & import" tab: Export writes the starred cut under the network on its left.');
      }),
    [host, openModel, toggleTheme, pushBanner]
  );

  const onSelectFromGraph = useCallback((index: number | null) => select(index), [select]);
  /** From the charts or a link in the details: select and bring the node into view in the graph. */
  const onSelectAndFocus = useCallback((index: number) => select(index, { focus: true }), [select]);
  const onChartExportError = useCallback((error: unknown) => pushBanner('error', `Could not export the charts: ${errorMessage(error)}`), [pushBanner]);

  // The views below draw a newly opened model in stages, one per task (opening-stages.tsx);
  // the stages follow the model as the views' background renders see it.
  const openingModel = useDeferredValue(current?.model ?? null);

  return (
    <OpeningStagesProvider model={openingModel}>
      <div className="studio" style={{ gridTemplateRows: `auto auto minmax(0, 1fr) 5px ${chartsHeight}px auto` }}>
        <input ref={fileInput} type="file" accept=".onnx" hidden onChange={onFileChosen} data-testid="open-file-input" />
        <div className="top">
          <Toolbar onChooseFile={chooseFile} openPanel={inBrowser ? { open: openPanelShown, setOpen: setOpenPanelShown } : undefined} searchRef={searchInput} />
          <OpenProgress />
          <ProfileJobs />
        </div>
        <BannerArea />
        <main className="workspace" style={{ gridTemplateColumns: `minmax(0, 1fr) 5px ${detailsWidth}px` }}>
          <section className="pane graph-pane" aria-label="Model graph">
            {current ? (
              <GraphPane model={current.model} selected={selected} onSelect={onSelectFromGraph} search={search} focusRequest={focusRequest ?? undefined} />
            ) : (
              <EmptyState opening={opening} />
            )}
          </section>
          <Splitter orientation="vertical" size={detailsWidth} onResize={setDetailsWidth} min={240} max={720} invert label="Resize the details pane" />
          <aside className="pane details-pane" aria-label="Node details">
            {current ? <NodeDetails model={current.model} index={selected} local={profiles.local} remote={profiles.remote} onSelect={onSelectAndFocus} /> : <div className="pane-empty muted">Details of the selected node show here.</div>}
          </aside>
        </main>
        <Splitter orientation="horizontal" size={chartsHeight} onResize={setChartsHeight} min={220} max={680} invert label="Resize the decision pane" />
        <section className="pane charts-pane" aria-label="Where to split">
          <BottomPane
            layers={
              current ? (
                <LayerCharts model={current.model} local={profiles.local} remote={profiles.remote} selected={selected} onSelect={onSelectAndFocus} onExportError={onChartExportError} />
              ) : (
                <div className="pane-empty muted">Per-layer compute and output size show here.</div>
              )
            }
          />
        </section>
        <StatusBar />
        {dragging && (
          <div className="drop-overlay" aria-hidden="true">
            <div className="drop-card">Drop an .onnx file to open it</div>
          </div>
        )}
      </div>
    </OpeningStagesProvider>
  );
}
