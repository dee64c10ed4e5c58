// The bottom pane's two tabs: the per-layer charts (Figure 5, "Layers", the default) and
// the split panel (Figure 6, "Split"). The chosen tab is remembered in this browser profile.
import { useState, type ReactNode } from 'react';
import { SplitPanel } from './SplitPanel.js';
import './split.css';

type BottomTab = 'layers' | 'split';

const TAB_KEY = 'studio.bottomTab';

export function BottomTabs({ layers }: { layers: ReactNode }) {
  const [tab, setTab] = useState<BottomTab>(() => (localStorage.getItem(TAB_KEY) === 'split' ? 'split' : 'layers'));
  const choose = (next: BottomTab) => {
    setTab(next);
    localStorage.setItem(TAB_KEY, next);
  };
  const tabButton = (id: BottomTab, label: string) => (
    <button type="button" role="tab" id={`bottom-tab-${id}`} aria-selected={tab === id} aria-controls={`bottom-panel-${id}`} className="bottom-tab" onClick={() => choose(id)}>
      {label}
    </button>
  );
  return (
    <div className="bottom-tabs">
      <div className="bottom-tab-bar" role="tablist" aria-label="Bottom pane">
        {tabButton('layers', 'Layers')}
        {tabButton('split', 'Split')}
      </div>
      <div className="bottom-tab-panel" role="tabpanel" id={`bottom-panel-${tab}`} aria-labelledby={`bottom-tab-${tab}`}>
        {tab === 'layers' ? layers : <SplitPanel />}
      </div>
    </div>
  );
}
