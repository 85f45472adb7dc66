export * from './lifeline-app';
export * from './api.module';
export * from './auth/jwt';
export * from './health/metrics';
export type { DemoUser } from './auth/demo-users.controller';
// What the e2e specs drive directly (a rebuild without HTTP, the served read-model file's name).
export { ReadModelsAdminController } from './admin/read-models-admin.controller';
export { ReadSide } from './http/read-side';
export { servedReadModelsFile } from './http/read-models-file';
