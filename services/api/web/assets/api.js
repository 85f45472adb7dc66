// The API client: bearer token from localStorage, coded errors as ApiError.
const TOKEN_KEY = 'lifeline.token';

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export const session = {
  get token() {
    return localStorage.getItem(TOKEN_KEY);
  },
  set token(value) {
    if (value) localStorage.setItem(TOKEN_KEY, value);
    else localStorage.removeItem(TOKEN_KEY);
  },
  /** {id, roles, admin} once signed in. */
  me: null,
};

/**
 * A request with a JSON body and answer; `contentType` sends `body` as that text instead (a BPMN file), and
 * `accept` other than JSON answers the text (an exported BPMN file). Errors are JSON either way.
 */
export async function api(method, path, body, { contentType, accept = 'application/json' } = {}) {
  const headers = { accept };
  if (session.token) headers.authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers['content-type'] = contentType ?? 'application/json';
  const payload = body === undefined ? undefined : contentType ? body : JSON.stringify(body);
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload });
  } catch {
    throw new ApiError(0, 'NETWORK', 'The server cannot be reached. Check your connection and try again.');
  }
  const text = await response.text();
  if (response.ok && accept !== 'application/json') return text;
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    const failure = new ApiError(
      response.status,
      error.code ?? `HTTP.${response.status}`,
      error.message ?? (response.statusText || 'Request failed'),
      error.details,
    );
    // A token that no longer works sends the user back to the sign-in screen.
    if (response.status === 401 && session.me)
      window.dispatchEvent(new CustomEvent('lifeline:unauthorized', { detail: failure }));
    throw failure;
  }
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body = {}) => api('POST', path, body);

/** A query string from the non-empty entries. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}
