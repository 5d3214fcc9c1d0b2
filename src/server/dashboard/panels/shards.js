// Shards: the shard map from the catalog (epoch, strategy, slots and events per shard) and where a key goes.

export default function mount(el, api) {
  const { h } = api;
  const meta = h('div', { className: 'dim' }, '');
  meta.dataset.testid = 'shards-map';
  const body = h('tbody');
  const key = h('input', { placeholder: 'order-o-123', size: 24 });
  key.dataset.testid = 'shard-key';
  const go = h('button', { type: 'submit' }, 'Route');
  go.dataset.testid = 'shard-route';
  const answer = h('div', { className: 'msg' });
  answer.dataset.testid = 'shard-route-result';
  const form = h('form', { className: 'row', onsubmit: (e) => { e.preventDefault(); route(); } }, h('span', { className: 'dim' }, 'route a key'), key, go);
  el.append(h('h2', {}, 'Shards'), meta,
    h('table', {}, h('thead', {}, h('tr', {}, ...['shard', 'slots', 'events', 'share', 'location'].map((t) => h('th', {}, t)))), body),
    form, answer);
  let busy = false;

  async function route() {
    answer.className = 'msg';
    try {
      const r = await api.get(`/api/shards/route?key=${encodeURIComponent(key.value)}`);
      answer.textContent = `${r.key} → shard ${r.shard}${r.slot === null ? '' : ` (slot ${r.slot})`} under epoch ${r.epoch}`;
    } catch (e) {
      answer.className = 'msg error';
      answer.textContent = api.errorText(e);
    }
  }

  api.on('stats', async () => {
    if (busy) return;
    busy = true;
    try {
      const m = await api.get('/api/shards');
      meta.textContent = `epoch ${m.epoch} · ${m.strategy}${m.totalSlots === null ? '' : ` over ${m.totalSlots} slots`} · ${m.label}`;
      const total = m.shards.reduce((a, s) => a + (s.events ?? 0), 0);
      body.replaceChildren(...m.shards.map((s) => {
        const share = total === 0 || s.events === null ? 0 : (100 * s.events) / total;
        const tr = h('tr', {}, h('td', {}, s.id), h('td', {}, String(s.slots)),
          h('td', { className: s.error ? 'err' : '', title: s.error ?? '' }, s.events === null ? `down: ${s.error}` : String(s.events)),
          h('td', {}, h('div', { className: 'bar' }, h('div', { style: `width:${share.toFixed(1)}%` }))),
          h('td', { className: 'dim', title: s.location }, s.location));
        tr.dataset.testid = `shard-${s.id}`;
        return tr;
      }));
    } catch (e) {
      meta.textContent = api.errorText(e);
    } finally {
      busy = false;
    }
  });
}
