export * from './moddle';
export * from './types';
export * from './import-bpmn';
export * from './export-bpmn';
