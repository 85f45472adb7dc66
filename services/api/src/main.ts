import { loadConfig } from '@lifeline/engine';
import { createLifelineApp } from './lifeline-app';
import { generateSecret } from './auth/jwt';

/**
 * The API alone (distributed mode): queries over its read models, task actions and definition
 * admin. It appends commands to the shared event store; the engine processes run the reactions.
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env, { engine: false, api: true });
  if (!config.jwtSecret && !config.oidc) {
    throw new Error('LIFELINE_JWT_SECRET or LIFELINE_OIDC_ISSUER is required when the API runs on its own');
  }
  // With an identity provider only, HS256 tokens are checked against a secret nobody holds: none passes.
  const lifeline = await createLifelineApp({ ...config, jwtSecret: config.jwtSecret ?? generateSecret() });
  lifeline.engine.logger.info({ url: lifeline.url }, 'api running');
  const stop = async () => {
    await lifeline.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Lifeline API failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
