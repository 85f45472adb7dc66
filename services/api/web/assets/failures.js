// Failed starts of processes (GET /start-failures): what failed and why, with a Retry for admins.
import { get, post, query, session } from './api.js';
import { h, replace, time, badge, announce, recordLink, errorBox } from './dom.js';

/** Whether the signed-in user may list failed starts (admins and auditors). */
export const seesFailures = () => Boolean(session.me && (session.me.admin || session.me.roles.includes('auditor')));

const STAGES = {
  trigger: 'evaluating its trigger',
  schedule: 'scheduling its delayed start',
  start: 'starting it',
  'delayed-start': 'starting it when its delay was over',
};

/**
 * A section listing failed starts matching `filter` (open ones unless told otherwise), refreshed with
 * `load(minPosition)`. `onRetried(result)` runs after a successful retry.
 */
export function startFailuresSection(filter, { title = 'Failed starts', showRecord = true, onRetried } = {}) {
  const errors = errorBox();
  const list = h('ul', { class: 'start-failures' });
  const heading = h('h2', {}, title);
  const section = h('section', { class: 'start-failures-section', hidden: true }, heading, errors.el, list);

  async function retry(button, failure) {
    errors.clear();
    button.disabled = true;
    try {
      const result = await post(`/start-failures/${encodeURIComponent(failure.failureId)}/retry`);
      announce(
        result.outcome === 'no-match'
          ? `Retried: ${failure.definitionKey} no longer matches, nothing started`
          : `Retried: ${failure.definitionKey} ${result.outcome}`,
      );
      await load(result.position);
      onRetried?.(result);
    } catch (error) {
      button.disabled = false;
      errors.show(error);
    }
  }

  async function load(minPosition) {
    if (!seesFailures()) return;
    try {
      const page = await get(`/start-failures${query({ ...filter, minPosition })}`);
      section.hidden = page.items.length === 0;
      replace(
        list,
        page.items.map((f) => {
          const retryButton =
            session.me.admin && f.status === 'open'
              ? h(
                  'button',
                  {
                    type: 'button',
                    'aria-label': `Retry the start of ${f.definitionKey} for ${f.entity.type} ${f.entity.id}`,
                    onClick: () => retryButton && retry(retryButton, f),
                  },
                  'Retry',
                )
              : null;
          return h(
            'li',
            { class: 'start-failure', 'data-failure-id': f.failureId },
            f.status === 'open' ? badge('incident', 'Failed') : badge('completed', 'Retried'),
            ' ',
            h('strong', {}, f.definitionKey),
            ` v${f.definitionVersion}`,
            showRecord ? [' for ', recordLink(f.entity)] : null,
            ` failed ${STAGES[f.stage] ?? f.stage}: `,
            f.message,
            h('span', { class: 'code' }, ` (${f.code})`),
            ' ',
            time(f.failedAt),
            f.retry
              ? h(
                  'span',
                  { class: 'muted' },
                  ` Retried by ${f.retry.by}: ${f.retry.outcome}`,
                  f.retry.instanceId
                    ? [' · ', h('a', { href: `#/instances/${f.retry.instanceId}` }, 'instance')]
                    : null,
                )
              : null,
            retryButton ? [' ', retryButton] : null,
          );
        }),
      );
    } catch (error) {
      section.hidden = false;
      errors.show(error);
    }
  }

  return { el: section, load };
}
