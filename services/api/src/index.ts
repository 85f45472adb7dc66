export * from './lifeline-app';
export * from './api.module';
export * from './auth/jwt';
export * from './health/metrics';
export type { DemoUser } from './auth/demo-users.controller';
