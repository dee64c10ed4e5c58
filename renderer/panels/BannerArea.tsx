// Problems the user should know about, one dismissible banner each (role="alert"): a file
// that would not open, a failed profile, a lost executor, a lost connection to main. The
// studio stays usable under them.
import { useStudio } from '../store.js';
import { AlertIcon, CloseIcon, InfoIcon } from './icons.js';

export function BannerArea() {
  const banners = useStudio((state) => state.banners);
  const dismissBanner = useStudio((state) => state.dismissBanner);
  const connectionLost = useStudio((state) => state.connectionLost);
  // Always rendered (empty when there is nothing to say) so the window's grid rows stay put.
  return (
    <div className="banners" aria-live="polite">
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
        <div key={banner.id} className={`banner banner-${banner.tone}`} role={banner.tone === 'error' ? 'alert' : 'status'} data-testid="banner">
          {banner.tone === 'error' ? <AlertIcon /> : <InfoIcon />}
          <span className="banner-message">{banner.message}</span>
          <button type="button" className="banner-close" aria-label="Dismiss" title="Dismiss" onClick={() => dismissBanner(banner.id)}>
            <CloseIcon />
          </button>
        </div>
      ))}
    </div>
  );
}
