// Stream browser: the newest events live; click one (or type a stream id) to read its whole stream.

export default function mount(el, api) {
  const { h } = api;
  const input = h('input', { placeholder: 'stream id, e.g. order-o-1', size: 28 });
  const open = h('button', {}, 'Open');
  const back = h('button', {}, 'Newest events');
  const title = h('span', { className: 'dim' }, 'newest events');
  const msg = h('div', { className: 'msg' });
  const body = h('tbody');
  const detail = h('pre', { hidden: true });
  el.append(h('h2', {}, 'Streams'), h('div', { className: 'row' }, input, open, back, title), msg,
    h('table', {}, h('thead', {}, h('tr', {}, ...['pos', 'stream', 'ver', 'type', 'time'].map((t) => h('th', {}, t)))), body), detail);
  let recent = [];
  let stream = null;

  const row = (e) => {
    const tr = h('tr', { className: 'clickable' }, h('td', {}, e.globalPosition), h('td', {}, e.streamId), h('td', {}, e.streamVersion), h('td', {}, e.type), h('td', { className: 'dim' }, e.recordedAt.slice(11, 23)));
    tr.addEventListener('click', () => {
      if (stream === null) return void show(e.streamId);
      detail.hidden = false;
      detail.textContent = JSON.stringify({ data: e.data, metadata: e.metadata }, null, 2);
    });
    return tr;
  };
  const render = (events) => body.replaceChildren(...events.map(row));
  async function show(id) {
    msg.textContent = '';
    msg.className = 'msg';
    try {
      const page = await api.get(`/api/streams/${encodeURIComponent(id)}?limit=200`);
      stream = id;
      title.textContent = `stream ${id}: ${page.events.length} events (click one for its data)`;
      detail.hidden = true;
      render(page.events);
    } catch (e) {
      msg.className = 'msg error';
      msg.textContent = api.errorText(e);
    }
  }
  open.addEventListener('click', () => input.value && show(input.value));
  input.addEventListener('keydown', (ev) => ev.key === 'Enter' && input.value && show(input.value));
  back.addEventListener('click', () => { stream = null; title.textContent = 'newest events'; detail.hidden = true; render(recent); });
  api.on('events', (batch) => {
    recent = [...batch.reverse(), ...recent].slice(0, 15);
    if (stream === null) render(recent);
  });
  api.get('/api/log/recent').then((r) => { recent = r.events.slice(0, 15); if (stream === null) render(recent); }, () => undefined);
}
