/**
 * A typed client of Lifeline's job-worker API (docs/decisions/0007-jobs.md). It depends on nothing but
 * the global fetch of Node 20+, so a worker can copy this folder alone.
 */

/** A job as fetch-and-lock hands it over: what to do, for which record, and until when it is this worker's. */
export interface Job<Inputs = Record<string, unknown>> {
  jobId: string;
  jobType: string;
  instanceId: string;
  activityId: string;
  /** Failures it may still have before an incident. */
  retries: number;
  inputs: Inputs;
  entity: { type: string; id: string };
  lockExpiresAt: string;
}

export interface FetchAndLock {
  workerId: string;
  types: string[];
  /** 1 to 100; by default 10. */
  maxJobs?: number;
  /** 1 s to 24 h: after that the job is offered to other workers unless a heartbeat extends it. */
  lockDurationMs: number;
  /** Long polling: with no job offered, wait up to this long (at most 60 s) for one. */
  timeoutMs?: number;
}

export interface Failure {
  error: string;
  /** Failures it may still have; by default one fewer than before (0 raises an incident). */
  retries?: number;
  /** ISO-8601 duration before it is offered again, such as PT30S; by default the activity's retryBackoff. */
  backoff?: string;
}

/** An answer of the API other than 2xx: its status and the stable code of `{ error: { code, message } }`. */
export class JobApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${status} ${code}: ${message}`);
    this.name = 'JobApiError';
  }

  /** Another worker holds the job now (this one's lock ran out), or it ended meanwhile. */
  get lockLost(): boolean {
    return this.code === 'JOB.LOCK_NOT_HELD' || this.code === 'JOB.NOT_OPEN' || this.code === 'INSTANCE.NOT_RUNNING';
  }
}

export interface JobClientOptions {
  /** The server, such as http://localhost:3000. */
  url: string;
  /** A bearer token with the role `worker`, or a function that gives a fresh one. */
  token: string | (() => string | Promise<string>);
}

/** One method per operation of /jobs; each resolves with the answer's body or rejects with a JobApiError. */
export class JobClient {
  constructor(private readonly options: JobClientOptions) {}

  /** `signal` ends a long poll early (the worker stopping). */
  async fetchAndLock(request: FetchAndLock, signal?: AbortSignal): Promise<Job[]> {
    const body = await this.post<{ jobs: Job[] }>('/jobs/fetch-and-lock', request, signal);
    return body.jobs;
  }

  heartbeat(jobId: string, workerId: string, lockDurationMs: number): Promise<{ lockExpiresAt: string | null }> {
    return this.post(`/jobs/${encodeURIComponent(jobId)}/heartbeat`, { workerId, lockDurationMs });
  }

  complete(jobId: string, workerId: string, variables?: Record<string, unknown>): Promise<{ position: number }> {
    return this.post(`/jobs/${encodeURIComponent(jobId)}/complete`, { workerId, ...(variables ? { variables } : {}) });
  }

  fail(
    jobId: string,
    workerId: string,
    failure: Failure,
  ): Promise<{ retries: number | null; retryAt: string | null; incidentId: string | null }> {
    return this.post(`/jobs/${encodeURIComponent(jobId)}/fail`, { workerId, ...failure });
  }

  /** A business error: the activity's `errors` lead `code` to its path (an undeclared code raises an incident). */
  error(
    jobId: string,
    workerId: string,
    error: { code: string; message?: string; variables?: Record<string, unknown> },
  ): Promise<{ next: string | null; incidentId: string | null }> {
    return this.post(`/jobs/${encodeURIComponent(jobId)}/error`, { workerId, ...error });
  }

  private async post<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    const token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
    const response = await fetch(new URL(path, this.options.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      ...(signal ? { signal } : {}),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new JobApiError(response.status, error?.code ?? `HTTP.${response.status}`, error?.message ?? text);
    }
    return parsed as T;
  }
}
