/**
 * An example worker for the `charge-card` jobs of a service activity (README, "Service tasks and job workers"):
 *
 *   LIFELINE_URL=http://localhost:3000 LIFELINE_TOKEN=$(npm run -s lifeline -- token billing --roles worker) \
 *     node dist/libs/job-worker/src/example-worker.js
 *
 * It charges nothing: it answers CARD_DECLINED above 10,000 and completes the others with a charge id.
 */
import { BusinessError, runWorker } from './index';

const worker = runWorker<{ amount?: number }>(
  {
    url: process.env.LIFELINE_URL ?? 'http://localhost:3000',
    token: process.env.LIFELINE_TOKEN ?? '',
    workerId: process.env.WORKER_ID ?? `charge-${process.pid}`,
    types: (process.env.JOB_TYPES ?? 'charge-card').split(','),
    onError: (error, job) => console.error(job ? `${job.jobId}:` : 'fetch:', error),
  },
  async (job) => {
    const amount = job.inputs.amount ?? 0;
    if (amount > 10_000) throw new BusinessError('CARD_DECLINED', `${amount} is over the card's limit`);
    return { chargeId: `ch_${job.jobId.slice(-12)}`, charged: amount };
  },
);

// Finish the jobs in hand, then exit; jobs not finished are offered again once their lock runs out.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void worker.stop().then(() => process.exit(0)));
}
