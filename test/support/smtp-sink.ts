import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';

export interface ReceivedMail {
  from: string;
  to: string[];
  parsed: ParsedMail;
}

/** test/support/smtp-sink-server.mjs as a child process: a real SMTP server the code under test talks to over TCP. */
export class SmtpSink {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(options: { failFirst?: number; reject?: string[] } = {}): Promise<SmtpSink> {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-smtp-sink-'));
    const child = spawn(process.execPath, [join(__dirname, 'smtp-sink-server.mjs')], {
      env: {
        ...process.env,
        SMTP_SINK_DIR: dir,
        SMTP_SINK_FAIL_FIRST: String(options.failFirst ?? 0),
        SMTP_SINK_REJECT: (options.reject ?? []).join(','),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /listening (\d+)/.exec(out);
        if (match) resolve(Number(match[1]));
      });
      child.once('exit', (code) => reject(new Error(`the SMTP sink exited (${code}) before listening`)));
    });
    return new SmtpSink(child, port, dir);
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** Every message accepted so far, in the order received. */
  async messages(): Promise<ReceivedMail[]> {
    const files = readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
    return Promise.all(
      files.map(async (file) => {
        const { from, to, raw } = JSON.parse(readFileSync(join(this.dir, file), 'utf8')) as {
          from: string;
          to: string[];
          raw: string;
        };
        return { from, to, parsed: await simpleParser(raw) };
      }),
    );
  }

  /** Waits (polling, up to `timeoutMs`) until `count` messages have arrived. */
  async waitFor(count: number, timeoutMs = 20_000): Promise<ReceivedMail[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const messages = await this.messages();
      if (messages.length >= count || Date.now() > deadline) return messages;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      this.child.kill('SIGTERM');
      await new Promise((r) => this.child.once('exit', r));
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
