// One record's timeline: every recorded event, process, task and decision about it, in order.
import { get, query } from './api.js';
import { h, replace, time, errorBox, badge } from './dom.js';
import { startFailuresSection } from './failures.js';
import { startProcessPanel } from './start.js';

export function recordView(container, [type, id]) {
  let position = 0;
  const errors = errorBox();
  const list = h('ol', { class: 'timeline', 'aria-label': `Timeline of ${type} ${id}` });
  const status = h('p', { class: 'list-status', role: 'status', 'aria-live': 'polite' });
  // Starts that failed for this record, open or retried (admins and auditors; admins may retry).
  const failures = startFailuresSection({ entityType: type, entityId: id }, { showRecord: false });
  // The processes the user may start by hand for this record (hidden when there are none).
  const starter = startProcessPanel({ record: { type, id }, onStarted: (result) => load(result.position) });
  replace(
    container,
    h('h1', { tabindex: '-1' }, `${type} ${id}`),
    h(
      'p',
      { class: 'muted' },
      'Everything about this record, oldest first. ',
      h(
        'a',
        { href: `#/instances?entityType=${encodeURIComponent(type)}&entityId=${encodeURIComponent(id)}` },
        'Its instances',
      ),
    ),
    errors.el,
    starter.el,
    failures.el,
    h('h2', {}, 'Timeline'),
    status,
    list,
  );

  async function load(minPosition) {
    try {
      const page = await get(
        `/entities/${encodeURIComponent(type)}/${encodeURIComponent(id)}/timeline${query({ minPosition })}`,
      );
      position = page.position;
      errors.clear();
      replace(
        list,
        page.items.length === 0 ? h('li', { class: 'empty' }, 'Nothing recorded about this record yet.') : null,
        page.items.map((e) =>
          h(
            'li',
            { class: `timeline-entry kind-${e.kind}` },
            h('div', { class: 'timeline-when' }, time(e.at)),
            h(
              'div',
              { class: 'timeline-what' },
              e.kind === 'StartFailed' ? [badge('incident', 'Failed start'), ' '] : null,
              h('strong', {}, e.summary || e.kind),
              h(
                'span',
                { class: 'muted' },
                ` ${e.kind} · by ${e.actor}`,
                e.instanceId ? [' · ', h('a', { href: `#/instances/${e.instanceId}` }, 'instance')] : null,
                e.taskId ? [' · ', h('a', { href: `#/tasks/${encodeURIComponent(e.taskId)}` }, 'task')] : null,
              ),
            ),
          ),
        ),
      );
      status.textContent = `${page.items.length} entries`;
    } catch (error) {
      errors.show(error);
    }
    await failures.load(minPosition);
  }

  load();
  return {
    onPosition(p) {
      if (p > position) load(p);
    },
  };
}
