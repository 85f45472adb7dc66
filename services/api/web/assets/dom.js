// Builds DOM nodes from data without innerHTML, so nothing a record holds can become markup.
const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'indeterminate']);
const SVG_NS = 'http://www.w3.org/2000/svg';

function setAttributes(el, props) {
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (PROPS.has(key)) el[key] = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(key === 'className' ? 'class' : key, value === true ? '' : String(value));
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** An HTML element: h('button', {type: 'button', onClick}, 'Claim'). */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  setAttributes(el, props);
  append(el, children);
  return el;
}

/** An SVG element. */
export function s(tag, props, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttributes(el, props);
  append(el, children);
  return el;
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** A <time> with a readable local date and the ISO instant as its machine value. */
export function time(iso) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  const date = new Date(iso);
  return h('time', { datetime: iso, title: iso }, Number.isNaN(date.getTime()) ? iso : dateTime.format(date));
}

/** A status badge: colour plus the word, never colour alone. */
export function badge(status, label = status) {
  return h('span', { class: `badge badge-${String(status).replace(/[^a-z-]/gi, '')}` }, label);
}

let announceTimer;
/** Says something to screen readers through the page's polite live region. */
export function announce(message) {
  const region = document.getElementById('announce');
  if (!region) return;
  clearTimeout(announceTimer);
  region.textContent = '';
  // A fresh text node after a tick makes repeated messages heard again.
  announceTimer = setTimeout(() => (region.textContent = message), 50);
}

/** A field: label + control + a slot for its error, wired with aria-describedby. */
export function field(label, control, { hint, required } = {}) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const error = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  const hintEl = hint ? h('p', { class: 'field-hint', id: `${id}-hint` }, hint) : null;
  control.setAttribute('aria-describedby', [hintEl && hintEl.id, error.id].filter(Boolean).join(' '));
  if (required) control.setAttribute('aria-required', 'true');
  return h(
    'div',
    { class: 'field' },
    h(
      'label',
      { for: id },
      label,
      required ? h('span', { class: 'required', 'aria-hidden': 'true' }, ' *') : null,
      required ? h('span', { class: 'visually-hidden' }, ' (required)') : null,
    ),
    hintEl,
    control,
    error,
  );
}

export function setFieldError(control, message) {
  const error = document.getElementById(`${control.id}-error`);
  if (message) control.setAttribute('aria-invalid', 'true');
  else control.removeAttribute('aria-invalid');
  if (error) {
    error.textContent = message ?? '';
    error.hidden = !message;
  }
}

/** The error box of a form or a view: role=alert, so it is read out when it appears. */
export function errorBox() {
  const box = h('div', { class: 'error-box', role: 'alert', hidden: true });
  return {
    el: box,
    show(error) {
      const message = error && error.message ? error.message : String(error);
      const code = error && error.code ? error.code : null;
      replace(
        box,
        h('strong', {}, 'Could not do that: '),
        message,
        code ? h('span', { class: 'code' }, ` (${code})`) : null,
      );
      box.hidden = false;
    },
    clear() {
      box.hidden = true;
      box.replaceChildren();
    },
  };
}

export function select(name, options, value) {
  return h(
    'select',
    { name },
    options.map(([optionValue, label]) => h('option', { value: optionValue, selected: optionValue === value }, label)),
  );
}

export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

export const recordHref = (entity) => `#/records/${encodeURIComponent(entity.type)}/${encodeURIComponent(entity.id)}`;

export function recordLink(entity) {
  if (!entity) return h('span', { class: 'muted' }, '—');
  return h('a', { href: recordHref(entity) }, `${entity.type} ${entity.id}`);
}

/** Record fields or variables as a definition list. */
export function fieldList(values, empty = 'Nothing recorded') {
  const entries = Object.entries(values ?? {});
  if (entries.length === 0) return h('p', { class: 'muted' }, empty);
  return h(
    'dl',
    { class: 'fields' },
    entries.map(([key, value]) => [
      h('dt', {}, key),
      h('dd', {}, typeof value === 'string' ? value : JSON.stringify(value)),
    ]),
  );
}

/**
 * Runs refreshes one after another, never two at once: a refresh asked for while one runs is
 * queued (and merged with other queued ones, keeping the highest minPosition), so a slow, older
 * response can never overwrite a newer one and no request for fresh data is dropped.
 */
export function serialized(run) {
  let chain = Promise.resolve();
  let queued = null;
  return (minPosition) => {
    if (queued) {
      if (minPosition !== undefined) queued.minPosition = Math.max(queued.minPosition ?? 0, minPosition);
      return queued.promise;
    }
    const entry = { minPosition };
    entry.promise = chain.then(() => {
      if (queued === entry) queued = null;
      return run(entry.minPosition);
    });
    queued = entry;
    chain = entry.promise.catch(() => undefined);
    return entry.promise;
  };
}
