import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { exportBpmn } from '@lifeline/bpmn';
import { allDefinitions } from '@lifeline/bpmn/testing';

/**
 * Every example and test definition, exported as BPMN, is valid against the OMG BPMN 2.0 schema as Camunda's own BPMN
 * model API reads it (test/bpmn-schema: the XSD check Camunda's tools make before they open or deploy a file).
 */
const ROOT = join(__dirname, '..', '..');
const POM = join(ROOT, 'test/bpmn-schema/pom.xml');
const inCi = ['1', 'true'].includes((process.env.CI ?? '').toLowerCase());
const missing = ['java', 'mvn'].filter((command) => spawnSync('sh', ['-c', `command -v ${command}`]).status !== 0);
// Outside CI a machine without a JDK skips it; in CI a missing tool is a failure, not a skip.
const skipReason =
  missing.length > 0 && !inCi ? `skipped: ${missing.join(' and ')} not installed (CI installs them)` : undefined;
const run = promisify(execFile);

describe(`BPMN exports against the BPMN 2.0 schema${skipReason ? ` (${skipReason})` : ''}`, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-bpmn-schema-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  (skipReason ? it.skip : it)(
    'every example and test definition exports as a file the schema accepts, and a broken one is caught',
    async () => {
      expect(missing).toEqual([]);
      const files: string[] = [];
      for (const [index, { definition }] of allDefinitions().entries()) {
        const file = join(dir, `${String(index).padStart(2, '0')}-${definition.key}.bpmn`);
        writeFileSync(file, await exportBpmn(definition));
        files.push(file);
      }
      expect(files.length).toBeGreaterThanOrEqual(40);
      // The check must be able to fail: an element the schema does not know.
      const broken = join(dir, 'broken.bpmn');
      writeFileSync(broken, readFileSync(files[0]!, 'utf8').replace('<bpmn:endEvent ', '<bpmn:endEventX '));

      await run(
        'mvn',
        ['-q', '-B', '-f', POM, 'package', 'dependency:build-classpath', '-Dmdep.outputFile=target/classpath.txt'],
        {
          cwd: ROOT,
          timeout: 240_000,
        },
      );
      const target = join(ROOT, 'test/bpmn-schema/target');
      const classpath = `${join(target, 'bpmn-schema-check-1.jar')}:${readFileSync(join(target, 'classpath.txt'), 'utf8').trim()}`;
      const check = (paths: string[]) =>
        run('java', ['-cp', classpath, 'dev.lifeline.bpmn.SchemaCheck', ...paths], { timeout: 120_000 }).then(
          (done) => ({ code: 0, stdout: done.stdout }),
          (failed: { code?: number; stdout?: string }) => ({ code: failed.code ?? -1, stdout: failed.stdout ?? '' }),
        );

      const exports = await check(files);
      expect(
        exports.stdout
          .trim()
          .split('\n')
          .filter((line) => line.startsWith('INVALID')),
      ).toEqual([]);
      expect(exports).toEqual({ code: 0, stdout: `${files.length} valid, 0 invalid\n` });

      const caught = await check([broken]);
      expect(caught.code).toBe(1);
      expect(caught.stdout).toMatch(/^INVALID broken\.bpmn: .*endEventX/m);
    },
    420_000,
  );
});
