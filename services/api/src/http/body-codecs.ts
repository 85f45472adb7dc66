import { createRequire } from 'node:module';

/**
 * body-parser (through raw-body) loads iconv-lite's codec tables on the first JSON or text body, about 20 ms of
 * requires inside a request: load them at start-up instead. The copies warmed are the ones body-parser and
 * raw-body themselves resolve, from the express this app uses; every charset body-parser accepts is in the tables.
 */
export function loadBodyCodecs(): void {
  const bodyParser = createRequire(require.resolve('express')).resolve('body-parser');
  const rawBody = createRequire(bodyParser).resolve('raw-body');
  for (const from of [bodyParser, rawBody]) {
    const iconv = createRequire(from)('iconv-lite') as { getDecoder(encoding: string): unknown };
    // The bodies' default charset (what the parsers ask for when the client names none).
    iconv.getDecoder('utf-8');
  }
}
