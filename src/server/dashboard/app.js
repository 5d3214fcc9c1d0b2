// The dashboard shell: loads the panels the service lists (one ES module each), gives them a small API and
// forwards the service's server-sent events to them. A panel is `export default function mount(section, api)`.
/* global document, window, fetch, EventSource, localStorage */

const listeners = new Map();
const tokenInput = document.getElementById('admin-token');
tokenInput.value = localStorage.getItem('tessera-admin-token') ?? '';
tokenInput.addEventListener('change', () => localStorage.setItem('tessera-admin-token', tokenInput.value));

async function request(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (tokenInput.value) headers.authorization = `Bearer ${tokenInput.value}`;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw Object.assign(new Error(json.message ?? res.statusText), { status: res.status, code: json.code, hint: json.hint });
  return json;
}

const api = {
  get: (path) => request('GET', path),
  post: (path, body) => request('POST', path, body ?? {}),
  /** Subscribes to a live event (`stats`, `events`, `rebuild`) or a dashboard event (`select-saga`). */
  on(name, fn) {
    if (!listeners.has(name)) listeners.set(name, new Set());
    listeners.get(name).add(fn);
  },
  emit(name, data) {
    for (const fn of listeners.get(name) ?? []) fn(data);
  },
  /** Builds an element: h('td', { className: 'x' }, 'text', child). */
  h(tag, props = {}, ...children) {
    const el = Object.assign(document.createElement(tag), props);
    for (const c of children) el.append(c instanceof window.Node ? c : String(c ?? ''));
    return el;
  },
  errorText: (e) => `${e.code ?? 'ERROR'}: ${e.message}${e.hint ? ` — ${e.hint}` : ''}`,
};

function connect() {
  const status = document.getElementById('live-status');
  const source = new EventSource('/api/live');
  source.addEventListener('open', () => { status.textContent = 'live'; status.className = 'pill s-live'; });
  source.addEventListener('error', () => { status.textContent = 'reconnecting…'; status.className = 'pill s-failed'; });
  for (const name of ['stats', 'events', 'rebuild']) {
    source.addEventListener(name, (m) => api.emit(name, JSON.parse(m.data)));
  }
}

const root = document.getElementById('panels');
const { panels } = await api.get('/dashboard/panels.json');
for (const name of panels) {
  const section = api.h('section', { className: 'panel', id: `panel-${name}` });
  section.dataset.testid = `panel-${name}`;
  root.append(section);
  try {
    const mod = await import(`./panels/${name}.js`);
    mod.default(section, api);
  } catch (e) {
    section.append(api.h('p', { className: 'msg error' }, `panel ${name} failed to load: ${e.message}`));
  }
}
connect();
