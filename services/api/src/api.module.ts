import { MailsController } from './mails/mails.controller';
import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import type { ReadModels } from '@lifeline/read-models';
import { EngineRuntime, type Clock, type OidcConfig } from '@lifeline/engine';
import type { Logger } from 'pino';
import { AuthGuard } from './auth/auth.guard';
import { TokenVerifier } from './auth/jwt';
import { DefinitionsController } from './definitions/definitions.controller';
import { EntitiesController } from './entities/entities.controller';
import { RecordEntityEventsController } from './entity-events/record-entity-events.controller';
import { HealthController } from './health/health.controller';
import { Metrics } from './health/metrics';
import { ErrorFilter } from './http/error-filter';
import { ReadSide } from './http/read-side';
import { InstancesController } from './instances/instances.controller';
import { TasksController } from './tasks/tasks.controller';
import { LiveController } from './live/live.controller';
import { ReadModelsAdminController } from './admin/read-models-admin.controller';
import { DemoUsers, DemoUsersController, type DemoUser } from './auth/demo-users.controller';
import { JobsController } from './jobs/jobs.controller';
import { StartFailuresController } from './start-failures/start-failures.controller';
import { WebhooksController } from './webhooks/webhooks.controller';
import { AsOfPool } from '@lifeline/audit';
import { API_HANDLERS } from './use-cases';

export interface ApiDependencies {
  readModels: ReadModels;
  jwtSecret: string;
  /** The longest a token may live, in seconds (LIFELINE_TOKEN_MAX_LIFETIME). */
  tokenMaxLifetimeSeconds?: number;
  /** An identity provider whose RS256/ES256 tokens are accepted besides HS256 ones. */
  oidc?: OidcConfig;
  /** The clock tokens are checked against (the system clock outside tests). */
  authClock?: Clock;
  logger: Logger;
  metrics?: Metrics;
  demoUsers?: () => DemoUser[];
  /** Runs `?asOf=` queries off the event loop; its owner closes it. */
  asOf: AsOfPool;
}

/** The API's Nest shell: controllers over the QueryBus and the CommandBus, and the handlers the API adds to them. */
@Module({})
export class ApiModule {
  static forDependencies(deps: ApiDependencies): DynamicModule {
    return {
      module: ApiModule,
      controllers: [
        RecordEntityEventsController,
        DefinitionsController,
        InstancesController,
        TasksController,
        EntitiesController,
        HealthController,
        LiveController,
        ReadModelsAdminController,
        DemoUsersController,
        StartFailuresController,
        WebhooksController,
        MailsController,
        JobsController,
      ],
      providers: [
        {
          provide: ReadSide,
          useFactory: (engine: EngineRuntime) => new ReadSide(deps.readModels, () => engine.store.headPosition()),
          inject: [EngineRuntime],
        },
        {
          provide: TokenVerifier,
          useValue: new TokenVerifier(deps.jwtSecret, {
            maxLifetimeSeconds: deps.tokenMaxLifetimeSeconds,
            clock: deps.authClock,
            oidc: deps.oidc,
          }),
        },
        {
          provide: Metrics,
          useFactory: (engine: EngineRuntime) => deps.metrics ?? new Metrics(engine.metrics),
          inject: [EngineRuntime],
        },
        { provide: DemoUsers, useValue: new DemoUsers(deps.demoUsers) },
        { provide: AsOfPool, useValue: deps.asOf },
        ...API_HANDLERS,
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useValue: new ErrorFilter(deps.logger) },
      ],
      exports: [Metrics],
    };
  }
}
