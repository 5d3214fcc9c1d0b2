// Sagas by status (click a count to filter), the newest sagas, and one saga's step timeline: every attempt of
// every step, forward (do) and compensating (undo), with its duration and error.
/* global setTimeout */

const TERMINAL = ['completed', 'compensated', 'cancelled', 'compensation_failed'];

export default function mount(el, api) {
  const { h } = api;
  const counts = h('div', { className: 'counts' });
  const body = h('tbody');
  const detail = h('div', { className: 'timeline' });
  detail.dataset.testid = 'saga-detail';
  el.append(h('h2', {}, 'Sagas'), counts,
    h('table', {}, h('thead', {}, h('tr', {}, ...['saga', 'type', 'status', 'updated'].map((t) => h('th', {}, t)))), body), detail);
  let filter = null;
  let selected = null;
  let refreshing = false;

  async function refreshList() {
    if (refreshing) return;
    refreshing = true;
    try {
      const r = await api.get(`/api/sagas?limit=12${filter ? `&status=${filter}` : ''}`);
      body.replaceChildren(...r.sagas.map((s) => {
        const tr = h('tr', { className: `clickable${s.id === selected ? ' selected' : ''}` },
          h('td', {}, s.id), h('td', {}, s.name), h('td', {}, h('span', { className: `pill s-${s.status}` }, s.status)), h('td', { className: 'dim' }, s.updatedAt.slice(11, 19)));
        tr.dataset.sagaId = s.id;
        tr.addEventListener('click', () => select(s.id));
        return tr;
      }));
    } catch { /* the next tick retries */ } finally {
      refreshing = false;
    }
  }

  async function showDetail() {
    if (selected === null) return;
    let s;
    try {
      s = await api.get(`/api/sagas/${encodeURIComponent(selected)}`);
    } catch (e) {
      detail.replaceChildren(h('p', { className: 'msg error' }, api.errorText(e)));
      return;
    }
    const status = h('span', { className: `pill s-${s.status}` }, s.status);
    status.dataset.testid = 'saga-status';
    const head = h('div', { className: 'row' }, h('strong', {}, s.id), status, s.error ? h('span', { className: 'err' }, s.error) : '');
    const actions = h('div', { className: 'row' });
    const msg = h('span', { className: 'msg' });
    const action = (label, path) => {
      const b = h('button', {}, label);
      b.addEventListener('click', () => api.post(`/api/sagas/${encodeURIComponent(s.id)}/${path}`).then(showDetail, (e) => { msg.className = 'msg error'; msg.textContent = api.errorText(e); }));
      actions.append(b);
    };
    if (s.status === 'compensation_failed') action('Retry compensation', 'retry-compensation');
    if (s.status === 'running' || s.status === 'waiting') action('Cancel', 'cancel');
    actions.append(msg);
    const attempts = s.timeline.length > 0 ? s.timeline : s.steps.map((st) => ({ step: st.name, phase: st.phase, attempt: st.attempts, durationMs: null, error: st.error ?? null }));
    const longest = Math.max(1, ...attempts.map((a) => a.durationMs ?? 0));
    const rows = attempts.map((a) => {
      const bar = h('span', { className: `dur${a.error ? ' fail' : ''}`, style: `width:${Math.max(2, Math.round(((a.durationMs ?? 0) / longest) * 160))}px` });
      const row = h('div', { className: `step ${a.phase}` },
        h('span', {}, a.step), h('span', { className: a.phase }, a.phase),
        h('span', {}, bar, `attempt ${a.attempt}`, a.durationMs === null ? '' : ` · ${a.durationMs} ms`, a.error ? h('div', { className: 'err' }, a.error) : ''));
      row.dataset.testid = `step-${a.step}-${a.phase}`;
      return row;
    });
    const log = h('pre', {}, s.steps.map((st) => `${st.phase.padEnd(4)} ${st.name.padEnd(18)} ${st.state.padEnd(9)} attempts ${st.attempts}${st.error ? `  ${st.error}` : ''}`).join('\n'));
    detail.replaceChildren(h('h2', {}, 'Step timeline'), head, actions, ...rows, log);
    if (!TERMINAL.includes(s.status)) setTimeout(showDetail, 300);
  }

  function select(id) {
    selected = id;
    void showDetail();
    void refreshList();
  }

  api.on('select-saga', select);
  api.on('stats', (s) => {
    const all = Object.values(s.sagaCounts).reduce((a, b) => a + b, 0);
    const chip = (status, n) => {
      const c = h('span', { className: `pill s-${status}${filter === status || (status === 'all' && filter === null) ? ' active' : ''}` }, `${status} ${n}`);
      c.dataset.testid = `saga-count-${status}`;
      c.addEventListener('click', () => { filter = status === 'all' ? null : status; void refreshList(); });
      return c;
    };
    counts.replaceChildren(chip('all', all), ...Object.entries(s.sagaCounts).sort().map(([k, n]) => chip(k, n)));
    void refreshList();
  });
  void refreshList();
}
