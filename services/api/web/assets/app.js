// The shell: sign-in, navigation, hash routes, and one live subscription shared by the views.
import { api, get, session, ApiError } from './api.js';
import { h, replace, field, errorBox, announce } from './dom.js';
import { taskboxView } from './taskbox.js';
import { processesView } from './processes.js';
import { instancesView, instanceView } from './instances.js';
import { recordView } from './records.js';
import { designerView } from './designer.js';

const main = document.getElementById('main');
const top = document.getElementById('top');

const routes = [
  { pattern: /^#\/tasks(?:\/([^/]+))?$/, view: taskboxView, nav: 'tasks' },
  { pattern: /^#\/processes(?:\/([^/]+))?$/, view: processesView, nav: 'processes' },
  { pattern: /^#\/instances(?:\?(.*))?$/, view: instancesView, nav: 'instances' },
  { pattern: /^#\/instances\/([^/]+)$/, view: instanceView, nav: 'instances' },
  { pattern: /^#\/records\/([^/]+)\/(.+)$/, view: recordView, nav: null },
  { pattern: /^#\/design\/([^/]+)$/, view: designerView, nav: 'processes' },
];

let current = null; // { view, instance }
let live = null;
let livePosition = 0;

function connectLive() {
  if (live || !session.token || typeof EventSource === 'undefined') return;
  live = new EventSource(`/live?access_token=${encodeURIComponent(session.token)}`);
  live.addEventListener('position', (event) => {
    const { position } = JSON.parse(event.data);
    livePosition = position;
    current?.instance?.onPosition?.(position);
  });
  // The server ends the stream when the token expires: back to the sign-in screen, as a 401 would.
  live.addEventListener('expired', () => signOut('Your session has ended. Sign in again.'));
}

function disconnectLive() {
  live?.close();
  live = null;
}

function signOut(message) {
  session.token = null;
  session.me = null;
  disconnectLive();
  unmountCurrent();
  top.hidden = true;
  renderSignIn(message);
}

async function signInWith(token) {
  session.token = token;
  session.me = await get('/auth/me');
  top.hidden = false;
  document.getElementById('who').textContent =
    `${session.me.id}${session.me.roles.length ? ` (${session.me.roles.join(', ')})` : ''}`;
  connectLive();
  if (!location.hash || location.hash === '#/' || location.hash === '#/sign-in') location.hash = '#/tasks';
  else route();
}

async function renderSignIn(message) {
  document.title = 'Sign in · Lifeline';
  const errors = errorBox();
  const heading = h('h1', { tabindex: '-1' }, 'Sign in to Lifeline');
  const card = h('section', { class: 'sign-in card', 'aria-labelledby': 'sign-in-title' });
  heading.id = 'sign-in-title';
  replace(main, card);
  replace(card, heading, message ? h('p', { class: 'notice', role: 'status' }, message) : null, errors.el);
  let demo = null;
  try {
    demo = await get('/auth/demo-users');
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) errors.show(error);
  }
  const use = async (token) => {
    errors.clear();
    try {
      await signInWith(token);
    } catch (error) {
      session.token = null;
      errors.show(error);
    }
  };
  if (demo && demo.length) {
    card.append(
      h('p', {}, 'Demo mode: choose who you are.'),
      h(
        'ul',
        { class: 'user-picker', 'aria-label': 'Demo users' },
        demo.map((user) =>
          h(
            'li',
            {},
            h(
              'button',
              { type: 'button', class: 'user', 'data-user': user.id, onClick: () => use(user.token) },
              h('span', { class: 'user-name' }, user.id),
              h('span', { class: 'user-roles' }, user.roles.join(', ')),
              h('span', { class: 'user-description' }, user.description),
            ),
          ),
        ),
      ),
    );
  }
  const tokenInput = h('textarea', { name: 'token', rows: '3', autocomplete: 'off', spellcheck: 'false' });
  const form = h(
    'form',
    {
      class: 'token-form',
      onSubmit: (event) => {
        event.preventDefault();
        const token = tokenInput.value.trim().replace(/^Bearer\s+/i, '');
        if (!token) {
          errors.show(new Error('Paste a token first'));
          tokenInput.focus();
          return;
        }
        use(token);
      },
    },
    field(demo && demo.length ? 'Or paste an access token (JWT)' : 'Access token (JWT)', tokenInput),
    h('button', { type: 'submit' }, 'Sign in'),
  );
  card.append(form);
  heading.focus();
}

/** A view may answer `leaveGuard()` with a question (unsaved work) before it is left; no answer lets it go. */
function mayLeave() {
  const question = current?.instance?.leaveGuard?.();
  return !question || window.confirm(question);
}

/** The browser asks before a reload or a close while the current view has something to lose. */
function guardUnload(event) {
  const question = current?.instance?.leaveGuard?.();
  if (!question) return;
  event.preventDefault();
  event.returnValue = question;
}

function unmountCurrent() {
  window.removeEventListener('beforeunload', guardUnload);
  current?.instance?.unmount?.();
  current = null;
}

function route() {
  if (!session.me) return;
  const hash = location.hash || '#/tasks';
  const match = routes.map((r) => ({ r, m: r.pattern.exec(hash) })).find((x) => x.m);
  if (!match) {
    location.replace('#/tasks');
    return;
  }
  const params = match.m.slice(1).map((p) => (p === undefined ? undefined : decodeURIComponent(p)));
  const stays = current && current.view === match.r.view && current.instance.update;
  if (!stays && current && !mayLeave()) {
    // Back to the view's own address without a hashchange, so it is neither re-rendered nor lost.
    history.replaceState(history.state, '', current.hash);
    return;
  }
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === match.r.nav) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  // Moving within one view (another task in the Taskbox) keeps its list and filters.
  if (stays) {
    current.hash = hash;
    current.instance.update(params);
    return;
  }
  unmountCurrent();
  const container = h('div', { class: 'view' });
  replace(main, container);
  const instance = match.r.view(container, params, { livePosition: () => livePosition });
  current = { view: match.r.view, instance, hash };
  if (instance?.leaveGuard) window.addEventListener('beforeunload', guardUnload);
  // Focus the new view's heading so screen readers and keyboards start at the top of it.
  requestAnimationFrame(() => container.querySelector('h1')?.focus());
}

window.addEventListener('hashchange', route);
window.addEventListener('lifeline:unauthorized', () => signOut('Your session has ended. Sign in again.'));
document.getElementById('sign-out').addEventListener('click', () => {
  if (!mayLeave()) return;
  signOut('You are signed out.');
  announce('Signed out');
});

(async function start() {
  if (session.token) {
    try {
      await signInWith(session.token);
      return;
    } catch {
      session.token = null;
    }
  }
  renderSignIn();
})();

export { api };
