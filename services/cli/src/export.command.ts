import type { Command } from 'commander';
import { exportBpmn } from '@lifeline/bpmn';
import { decodeEvent, DEFINITION_KEY, type DefinitionPublished } from '@lifeline/process-domain';
import { isBpmnText } from '@lifeline/read-models';
import { CliUsageError, type CliIo } from './io';
import { dataDirOf, openConfiguredStore, withStore } from './store';
import type { Run } from './run';

/**
 * `lifeline export`: a definition version as BPMN 2.0 XML on stdout (docs/decisions/0010-bpmn.md), from a running
 * server (`--url`, GET /definitions/:key/bpmn) or from the data dir's event store: the XML it was published as,
 * else an export with an automatic layout.
 */
export function registerExport(program: Command, io: CliIo, run: Run): void {
  program
    .command('export')
    .description(
      'Print a definition version as BPMN 2.0 XML with its diagram: from a server with --url, else from the data dir',
    )
    .argument('<key>', 'the definition key')
    .option('--version <n>', 'the version (default: the latest)')
    .option('--url <url>', 'the API base URL (default: LIFELINE_URL; neither: read the data dir)')
    .option('--token <jwt>', 'a bearer token for the API (default: LIFELINE_TOKEN)')
    .action((key: string, options: { version?: string; url?: string; token?: string }, command: Command) =>
      run(async () => {
        if (!DEFINITION_KEY.test(key)) throw new CliUsageError(`${JSON.stringify(key)} is not a definition key`);
        if (options.version !== undefined && !/^[1-9][0-9]{0,8}$/.test(options.version)) {
          throw new CliUsageError(`--version ${options.version}: give a version number (1, 2, …)`);
        }
        const version = options.version === undefined ? undefined : Number(options.version);
        const url = options.url ?? (io.env.LIFELINE_URL || undefined);
        const xml =
          url !== undefined
            ? await fromServer(url, options.token ?? (io.env.LIFELINE_TOKEN || undefined), key, version)
            : await fromStore(dataDirOf(command.optsWithGlobals<{ dataDir?: string }>().dataDir, io), io, key, version);
        io.stdout(xml.endsWith('\n') ? xml : `${xml}\n`);
        return 0;
      }),
    );
}

async function fromServer(url: string, token: string | undefined, key: string, version?: number): Promise<string> {
  const query = version === undefined ? '' : `?version=${version}`;
  const response = await fetch(`${url.replace(/\/+$/, '')}/definitions/${key}/bpmn${query}`, {
    headers: { accept: 'application/bpmn+xml', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  const text = await response.text();
  if (response.status === 200) return text;
  let error: { code?: string; message?: string } | undefined;
  try {
    error = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
  } catch {
    // not a JSON error: the status says enough
  }
  throw new Error(`${url} answered ${response.status}${error ? ` ${error.code}: ${error.message}` : ''}`);
}

async function fromStore(dataDir: string, io: CliIo, key: string, version?: number): Promise<string> {
  const published = await withStore(openConfiguredStore(dataDir, io), async (store) =>
    (await store.readStream(`definition-${key}`))
      .map((stored) => decodeEvent(stored))
      .filter((event): event is DefinitionPublished => event.type === 'DefinitionPublished'),
  );
  if (published.length === 0) throw new CliUsageError(`No definition ${key} in ${dataDir}`);
  const chosen =
    version === undefined ? published[published.length - 1] : published.find((event) => event.data.version === version);
  if (!chosen) throw new CliUsageError(`No version ${version} of definition ${key} (it has 1 to ${published.length})`);
  const { source, definition } = chosen.data;
  return source !== undefined && isBpmnText(source) ? source : exportBpmn(definition);
}
