import { Injectable } from '@nestjs/common';
import type { z } from 'zod';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { instanceOfJob, JobNotFound } from '@lifeline/process-domain';
import { getJob, listJobs, type JobFilter, type JobRow } from '@lifeline/read-models';
import { Conflict } from '../http/api-errors';
import { ReadSide } from '../http/read-side';
import type { JOB_LIST } from '../http/answers';

export const noSuchJob = () => new JobNotFound('No such job');
/** A job's instance, from its id (`<instanceId>.<activityId>.<visit>.<n>`); a malformed id is a job that does not exist. */
export const instanceOf = (jobId: string): string => {
  const instanceId = instanceOfJob(jobId);
  if (instanceId === undefined) throw noSuchJob();
  return instanceId;
};

export class JobListQuery extends Query<z.output<typeof JOB_LIST>> {
  constructor(
    readonly filter: JobFilter,
    readonly minPosition?: string,
  ) {
    super();
  }
}

export class JobQuery extends Query<JobRow> {
  constructor(
    readonly jobId: string,
    readonly minPosition?: string,
  ) {
    super();
  }
}

/** The open incident a job's failure raised, to retry (409 JOB.NO_OPEN_INCIDENT when it has none). */
export class JobIncidentQuery extends Query<string> {
  constructor(readonly jobId: string) {
    super();
  }
}

@Injectable()
@QueryHandler(JobListQuery)
export class JobListHandler implements IQueryHandler<JobListQuery> {
  constructor(private readonly read: ReadSide) {}
  async execute({ filter, minPosition }: JobListQuery) {
    const { position } = await this.read.atLeast(minPosition, ['jobs']);
    return { position, items: listJobs(this.read.db, filter) };
  }
}

@Injectable()
@QueryHandler(JobQuery)
export class JobHandler implements IQueryHandler<JobQuery, JobRow> {
  constructor(private readonly read: ReadSide) {}
  async execute({ jobId, minPosition }: JobQuery): Promise<JobRow> {
    instanceOf(jobId);
    await this.read.atLeast(minPosition, ['jobs']);
    const job = getJob(this.read.db, jobId);
    if (!job) throw noSuchJob();
    return job;
  }
}

@Injectable()
@QueryHandler(JobIncidentQuery)
export class JobIncidentHandler implements IQueryHandler<JobIncidentQuery, string> {
  constructor(private readonly read: ReadSide) {}
  async execute({ jobId }: JobIncidentQuery): Promise<string> {
    instanceOf(jobId);
    this.read.served(['jobs']);
    const job = getJob(this.read.db, jobId);
    if (!job) throw noSuchJob();
    if (!job.incident?.open) {
      throw new Conflict('JOB.NO_OPEN_INCIDENT', `The job is ${job.state} and has no open incident to retry`);
    }
    return job.incident.incidentId;
  }
}
