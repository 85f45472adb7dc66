import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CliUsageError, type CliIo } from './io';
import type { Run } from './run';

interface ImportOptions {
  key?: string;
  relatedEntity?: string;
  processId?: string;
  url?: string;
  token?: string;
}

interface Issue {
  path?: string;
  message?: string;
  code?: string;
  element?: { id: string; name?: string; type: string };
}

/** `lifeline import`: publishes a BPMN file (Camunda Modeler, Camunda 8) to a running server (POST /definitions). */
export function registerImport(program: Command, io: CliIo, run: Run): void {
  program
    .command('import')
    .description(
      'Publish a BPMN 2.0 file drawn in Camunda Modeler (Camunda 8) as a definition on a running server; prints its key and version, or the problems by element',
    )
    .argument('<file>', 'the .bpmn file')
    .option('--key <key>', 'the definition key when the file has no lifeline:definition key (else from the process id)')
    .option('--related-entity <type>', 'the record type when the file has no lifeline:definition relatedEntity')
    .option('--process-id <id>', 'which executable process of the file to publish, when it has several')
    .option('--url <url>', 'the server (default: LIFELINE_URL or http://localhost:3000)')
    .option(
      '--token <token>',
      'an admin token (default: LIFELINE_TOKEN; `lifeline token <you> --roles admin` signs one)',
    )
    .action((file: string, options: ImportOptions) =>
      run(async () => {
        const path = resolve(io.cwd, file);
        let xml: string;
        try {
          xml = readFileSync(path, 'utf8');
        } catch {
          throw new CliUsageError(`Cannot read ${path}`);
        }
        const token = options.token ?? (io.env.LIFELINE_TOKEN || undefined);
        if (token === undefined) {
          throw new CliUsageError('No token: pass --token or set LIFELINE_TOKEN (an admin token publishes)');
        }
        const base = options.url ?? (io.env.LIFELINE_URL || undefined) ?? 'http://localhost:3000';
        let url: URL;
        try {
          url = new URL('/definitions', base);
        } catch {
          throw new CliUsageError(`--url ${base} is not a URL (e.g. http://localhost:3000)`);
        }
        if (options.key !== undefined) url.searchParams.set('key', options.key);
        if (options.relatedEntity !== undefined) url.searchParams.set('relatedEntity', options.relatedEntity);
        if (options.processId !== undefined) url.searchParams.set('processId', options.processId);
        let response: Response;
        try {
          response = await fetch(url, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/bpmn+xml' },
            body: xml,
          });
        } catch (error) {
          throw new Error(`Cannot reach ${url.origin}: ${(error as Error).cause ?? (error as Error).message}`);
        }
        const text = await response.text();
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        if (response.status === 201) {
          const { key, version } = body as { key: string; version: number };
          io.stdout(`Published ${key} version ${version}\n`);
          return 0;
        }
        const error = (body as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
        io.stderr(`lifeline: ${error?.code ?? `HTTP ${response.status}`}: ${error?.message ?? text.slice(0, 200)}\n`);
        if (Array.isArray(error?.details)) io.stderr(formatIssues(error.details as Issue[]));
        return response.status >= 400 && response.status < 500 ? 2 : 1;
      }),
    );
}

/** The issues grouped by the element they concern (in the file's terms), then those of the file as a whole. */
export function formatIssues(issues: Issue[]): string {
  const groups = new Map<string, string[]>();
  for (const issue of issues) {
    const element = issue.element;
    const heading = element ? `${element.id} (${element.type}${element.name ? ` "${element.name}"` : ''})` : 'the file';
    const line = `${issue.path ?? ''}: ${issue.message ?? ''}${issue.code ? ` [${issue.code}]` : ''}`;
    groups.set(heading, [...(groups.get(heading) ?? []), line]);
  }
  return [...groups].map(([heading, lines]) => `  ${heading}\n${lines.map((l) => `    ${l}\n`).join('')}`).join('');
}
