// A worker process for jobs-workers.e2e.spec.ts, on the built client (npm run build): it completes jobs of
// e2e-charge with the variable servedBy, fails the first job of a record whose mode is "fail" (until an operator
// retries its incident), and with HOLD_AFTER=n holds every job after its n-th completion without answering,
// saying "holding <jobId>" on stdout, so the test can SIGKILL it while it holds locks.
const { runWorker } = require('../../../dist/libs/job-worker/src');

const { LIFELINE_URL, LIFELINE_TOKEN, WORKER_ID, HOLD_AFTER, LOCK_MS } = process.env;
const holdAfter = HOLD_AFTER === undefined ? Infinity : Number(HOLD_AFTER);
let completed = 0;

runWorker(
  {
    url: LIFELINE_URL,
    token: LIFELINE_TOKEN,
    workerId: WORKER_ID,
    types: ['e2e-charge'],
    maxJobs: 20,
    lockDurationMs: Number(LOCK_MS),
    pollTimeoutMs: 1000,
    onError: (error, job) => {
      // A lost lock is expected after the test kills a worker; anything else is worth seeing.
      if (error && error.code !== 'JOB.LOCK_NOT_HELD')
        console.error(WORKER_ID, job ? job.jobId : 'fetch', String(error));
    },
  },
  async (job) => {
    if (completed >= holdAfter) {
      process.stdout.write(`holding ${job.jobId}\n`);
      return new Promise(() => {});
    }
    if (job.inputs.mode === 'fail' && job.jobId.endsWith('.1')) throw new Error('the card gateway refuses this card');
    completed += 1;
    return { servedBy: WORKER_ID };
  },
);
