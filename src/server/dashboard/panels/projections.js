// Projections: position, lag, state, and a rebuild button whose progress arrives live (`rebuild` events).

export default function mount(el, api) {
  const { h } = api;
  const body = h('tbody');
  const msg = h('div', { className: 'msg' });
  el.append(h('h2', {}, 'Projections'),
    h('table', {}, h('thead', {}, h('tr', {}, ...['name', 'position', 'lag', 'state', 'rebuild'].map((t) => h('th', {}, t)))), body), msg);
  const rows = new Map();

  function rowFor(name) {
    if (rows.has(name)) return rows.get(name);
    const cells = { position: h('td'), lag: h('td'), state: h('td', { className: 'wrap' }) };
    const fill = h('div', { style: 'width:0%' });
    fill.dataset.testid = `rebuild-bar-${name}`;
    const pct = h('span', { className: 'dim' }, '');
    pct.dataset.testid = `rebuild-progress-${name}`;
    const button = h('button', {}, 'Rebuild');
    button.dataset.testid = `rebuild-${name}`;
    const bar = h('div', { className: 'bar', hidden: true }, fill);
    button.addEventListener('click', async () => {
      msg.className = 'msg';
      msg.textContent = '';
      try {
        await api.post(`/api/projections/${encodeURIComponent(name)}/rebuild`);
        bar.hidden = false;
        fill.style.width = '0%';
        pct.textContent = '0%';
      } catch (e) {
        msg.className = 'msg error';
        msg.textContent = api.errorText(e);
      }
    });
    const tr = h('tr', {}, h('td', {}, name), cells.position, cells.lag, cells.state, h('td', {}, h('div', { className: 'row' }, button, bar, pct)));
    body.append(tr);
    const r = { cells, fill, pct, bar };
    rows.set(name, r);
    return r;
  }

  // A projection parked on a failing event: show the error, and retry it or skip the event (admin actions).
  function failedActions(p) {
    const action = (label, path) => {
      const b = h('button', {}, label);
      b.dataset.testid = `${path}-${p.name}`;
      b.addEventListener('click', () => api.post(`/api/projections/${encodeURIComponent(p.name)}/${path}`).then(
        () => { msg.className = 'msg'; msg.textContent = `${p.name}: ${path} requested`; },
        (e) => { msg.className = 'msg error'; msg.textContent = api.errorText(e); },
      ));
      return b;
    };
    return [h('div', { className: 'err' }, `event ${p.failed.position}: ${p.failed.error}`), action('Retry', 'retry'), action('Skip event', 'skip')];
  }

  api.on('stats', (s) => {
    for (const p of s.projections) {
      const r = rowFor(p.name);
      r.cells.position.textContent = p.position;
      r.cells.lag.textContent = p.lagEvents === null ? 'inline' : `${p.lagEvents} ev / ${(p.lagMs / 1000).toFixed(1)} s`;
      r.cells.state.replaceChildren(h('span', { className: `pill s-${p.state}`, title: p.failed ? p.failed.error : '' }, p.state), ...(p.failed ? failedActions(p) : []));
    }
  });
  api.on('rebuild', (p) => {
    const r = rowFor(p.name);
    r.bar.hidden = false;
    if (p.state === 'failed') {
      r.pct.textContent = `failed: ${p.error ?? ''}`;
      return;
    }
    const percent = Math.min(100, Number(p.percent ?? 0));
    r.fill.style.width = `${percent}%`;
    r.pct.textContent = p.state === 'done' ? '100% — swapped in' : `${percent.toFixed(0)}%${p.eventsPerSec ? ` · ${Math.round(p.eventsPerSec)} ev/s` : ''}`;
  });
}
