// The renderer's entry: connects to main through the host this page runs under (Electron's
// preload bridge or the web host's socket), creates the store over it, starts it (ask main
// for the app info, preferences, recent files and executor; subscribe to events) and
// renders the studio.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { connectHost } from './host/index.js';
import { createStudioStore, StudioStoreProvider } from './store.js';
import './app.css';

const host = connectHost();
const store = createStudioStore(host);
host.onConnectionLost((reason) => store.getState().setConnectionLost(reason));
store.getState().start();

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <StudioStoreProvider value={store}>
      <App />
    </StudioStoreProvider>
  </StrictMode>
);
