// The running profile jobs: one strip per side under the toolbar with what is happening,
// a progress bar and Cancel. Nothing shows when no job runs.
import type { ProfileJob } from '../store.js';
import { useStudio } from '../store.js';
import { executorName } from './ExecutorPanel.js';
import { providerTitles } from './Toolbar.js';

function JobStrip({ job }: { job: ProfileJob }) {
  const cancelProfile = useStudio((state) => state.cancelProfile);
  const modelName = useStudio((state) => (state.current?.model.id === job.modelId ? state.current.model.fileName : 'another model'));
  const executor = useStudio((state) => state.executor);
  const percent = Math.round(job.fraction * 100);
  const where = job.side === 'local' ? `this machine (${providerTitles[job.ep]})` : `the executor (${executor ? executorName(executor) : 'remote'})`;
  return (
    <div className={`job-strip job-${job.side}`} data-testid={`profile-job-${job.side}`}>
      <span className="spinner" aria-hidden="true" />
      <span className="job-title">
        Profiling {modelName} on {where}
      </span>
      <span className="job-message" title={job.message}>
        {job.message}
      </span>
      <div
        className="progress"
        role="progressbar"
        aria-label={`Profiling progress on ${where}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        data-testid="profile-progress"
        data-side={job.side}
        data-fraction={job.fraction.toFixed(4)}
      >
        <div className="progress-fill" style={{ width: `${percent}%` }} />
      </div>
      <span className="job-percent mono">{percent}%</span>
      <button type="button" className="tool-button small" disabled={job.cancelling} onClick={() => void cancelProfile(job.side)} data-testid={`profile-cancel-${job.side}`}>
        {job.cancelling ? 'Cancelling…' : 'Cancel'}
      </button>
    </div>
  );
}

export function ProfileJobs() {
  const local = useStudio((state) => state.jobs.local);
  const remote = useStudio((state) => state.jobs.remote);
  if (!local && !remote) return null;
  return (
    <div className="jobs">
      {local && <JobStrip job={local} />}
      {remote && <JobStrip job={remote} />}
    </div>
  );
}
