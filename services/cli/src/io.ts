/** Where a CLI run writes and what it sees: the process in main.ts, buffers in tests. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export const processIo = (): CliIo => ({
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
});

/** A mistake in how the command was called, or something it needs that is missing: exit code 2. */
export class CliUsageError extends Error {
  readonly code = 'CLI.USAGE';
}

const seconds = (ms: number): string =>
  ms < 60_000 ? `${Math.ceil(ms / 1000)}s` : `${Math.floor(ms / 60_000)}m${Math.ceil((ms % 60_000) / 1000)}s`;

/** A progress bar with an ETA on stderr, redrawn at most every 100 ms. */
export class ProgressBar {
  private lastDraw = 0;
  private drawn = false;
  private readonly started = Date.now();

  constructor(
    private readonly io: CliIo,
    private readonly label: string,
    private readonly width = 30,
  ) {}

  update(done: number, total: number, etaMs?: number): void {
    const now = Date.now();
    if (done < total && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const ratio = total > 0 ? Math.min(done / total, 1) : 1;
    const filled = Math.round(ratio * this.width);
    const elapsed = now - this.started;
    const eta = etaMs ?? (ratio > 0 ? (elapsed / ratio) * (1 - ratio) : 0);
    const bar = '#'.repeat(filled) + '-'.repeat(this.width - filled);
    this.io.stderr(
      `\r${this.label} [${bar}] ${(ratio * 100).toFixed(0).padStart(3)}% ${done}/${total} ETA ${seconds(eta)}`,
    );
    this.drawn = true;
  }

  finish(): void {
    if (this.drawn) this.io.stderr('\n');
  }
}
