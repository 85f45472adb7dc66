// Run by scheduled-crash.e2e.spec.ts: the built engine on a data dir at a fixed (fake) time. It publishes the
// weekly audit (PUBLISH=1), fires what is due once, and with KILL set dies by SIGKILL inside the unit that fires
// the tick: after the tick is recorded (KILL=tick) or after its start too (KILL=start), before the commit.
const { EngineRuntime, FakeClock, loadConfig } = require('../../../dist/services/engine/src/index.js');

const WEEKLY_AUDIT = {
  key: 'weekly-audit',
  name: 'Weekly audit',
  relatedEntity: 'Audit',
  triggers: [{ on: 'schedule', cron: '0 7 * * MON', timeZone: 'Europe/Amsterdam' }],
  start: 'check',
  activities: {
    check: { type: 'human', title: 'Audit the books', assignee: { role: 'auditors' }, next: 'done' },
    done: { type: 'end' },
  },
};

async function main() {
  const { DATA_DIR, NOW, KILL, PUBLISH } = process.env;
  const runtime = await EngineRuntime.create(
    loadConfig({ LIFELINE_DATA_DIR: DATA_DIR, LIFELINE_TIMER_TICK_MS: '0', LOG_LEVEL: 'silent' }),
    { clock: new FakeClock(NOW) },
  );
  await runtime.start();
  if (PUBLISH === '1') await runtime.definitions.publish(JSON.stringify(WEEKLY_AUDIT), 'application/json', 'root');
  const reactor = runtime.reactor;
  if (KILL === 'tick') {
    const fire = reactor.fireDueSchedules.bind(reactor);
    reactor.fireDueSchedules = async (tx, now) => {
      const fired = await fire(tx, now);
      // Only once the tick is in this unit's appends: otherwise the kill would prove nothing (exit 3 says so).
      if (!tx.appended.some((e) => e.type === 'ScheduleTicked')) process.exit(3);
      process.kill(process.pid, 'SIGKILL');
      return fired;
    };
  }
  if (KILL === 'start') {
    const drain = reactor.drain.bind(reactor);
    reactor.drain = async (tx) => {
      await drain(tx);
      if (tx.appended.some((e) => e.type === 'InstanceStarted')) process.kill(process.pid, 'SIGKILL');
      else if (tx.appended.some((e) => e.type === 'ScheduleTicked')) process.exit(3);
    };
  }
  await runtime.reactions.tick();
  const events = await runtime.store.readAll(0, 100_000);
  const count = (type) => events.filter((e) => e.type === type).length;
  process.stdout.write(JSON.stringify({ ticks: count('ScheduleTicked'), starts: count('InstanceStarted') }));
  await runtime.close();
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
