// What is being opened, under the toolbar: a file streaming to the studio with its bytes,
// a progress bar and Cancel, then "Opening …" while main reads and analyses it; a file
// opened by path or a sample with "Opening …" alone. Nothing shows when nothing opens.
import { formatBytes } from '../format.js';
import { useStudio } from '../store.js';

export function OpenProgress() {
  const opening = useStudio((state) => state.opening);
  const upload = useStudio((state) => state.upload);
  const cancelUpload = useStudio((state) => state.cancelUpload);
  if (!opening && !upload) return null;
  const streaming = upload !== null && upload.sentBytes < upload.totalBytes;
  const fraction = upload ? upload.sentBytes / Math.max(1, upload.totalBytes) : 0;
  const percent = Math.floor(fraction * 100);
  return (
    <div className="jobs">
      <div className="job-strip job-open" data-testid="open-progress" data-phase={streaming ? 'uploading' : 'opening'} data-fraction={upload ? fraction.toFixed(4) : ''}>
        <span className="spinner" aria-hidden="true" />
        <span className="job-title">{streaming ? `Uploading ${upload.fileName}` : `Opening ${upload?.fileName ?? opening}`}</span>
        <span className="job-message">
          {upload
            ? streaming
              ? `${formatBytes(upload.sentBytes)} of ${formatBytes(upload.totalBytes)} sent to the studio`
              : 'all bytes sent; the studio reads and analyses it'
            : 'the studio reads and analyses it'}
        </span>
        {upload && (
          <>
            <div className="progress" role="progressbar" aria-label={`Uploading ${upload.fileName}`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}>
              <div className="progress-fill" style={{ width: `${percent}%` }} />
            </div>
            <span className="job-percent mono">{percent}%</span>
            {streaming && (
              <button type="button" className="tool-button small" disabled={upload.cancelling} onClick={() => void cancelUpload()} data-testid="upload-cancel">
                {upload.cancelling ? 'Cancelling…' : 'Cancel'}
              </button>
            )}
          </>
        )}
      </div>
    </div>
  );
}
