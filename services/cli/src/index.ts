// `@lifeline/cli`: the command line, runnable in-process (tests and benchmarks call it).
export { runCli, type CliIo } from './cli';
