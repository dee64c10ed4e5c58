// Problems the user should know about, one dismissible banner each (role="alert"): a file
// that would not open, a failed profile, a lost executor, a lost connection to main; and
// notes (role="status"). They float over the top of the workspace instead of pushing the
// graph down; a note closes by itself after INFO_MS, an error stays until dismissed or
// until the condition behind it ends (the store clears those). The studio stays usable
// under them.
import { useEffect } from 'react';
import { useStudio, type Banner } from '../store.js';
import { AlertIcon, CloseIcon, InfoIcon } from './icons.js';

/** How long a note (an info banner) stays. */
export const INFO_MS = 8000;

function BannerItem({ banner, onDismiss }: { banner: Banner; onDismiss: (id: number) => void }) {
  useEffect(() => {
    if (banner.tone !== 'info') return;
    const timer = setTimeout(() => onDismiss(banner.id), INFO_MS);
    return () => clearTimeout(timer);
  }, [banner.id, banner.tone, onDismiss]);
  return (
    <div className={`banner banner-${banner.tone}`} role={banner.tone === 'error' ? 'alert' : 'status'} data-testid="banner" data-tone={banner.tone}>
      {banner.tone === 'error' ? <AlertIcon /> : <InfoIcon />}
      <span className="banner-message">{banner.message}</span>
      <button type="button" className="banner-close" aria-label="Dismiss" title="Dismiss" onClick={() => onDismiss(banner.id)}>
        <CloseIcon />
      </button>
    </div>
  );
}

export function BannerArea() {
  const banners = useStudio((state) => state.banners);
  const dismissBanner = useStudio((state) => state.dismissBanner);
  const connectionLost = useStudio((state) => state.connectionLost);
  // Always rendered (an empty, zero-height row when there is nothing to say) so the window's grid rows stay put.
  return (
    <div className="banners" aria-live="polite">
      <div className="banner-stack">
        {connectionLost && (
          <div className="banner banner-error" role="alert" data-testid="banner">
            <AlertIcon />
            <span className="banner-message">Disconnected: {connectionLost}. Results shown stay on screen.</span>
            <button type="button" className="tool-button small" onClick={() => window.location.reload()}>
              Reconnect
            </button>
          </div>
        )}
        {banners.map((banner) => (
          <BannerItem key={banner.id} banner={banner} onDismiss={dismissBanner} />
        ))}
      </div>
    </div>
  );
}
