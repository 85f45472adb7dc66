/** Runs a command's work and records its exit code (errors are reported by runCli). */
export type Run = (work: () => Promise<number>) => Promise<void>;
