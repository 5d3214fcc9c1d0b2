// The orders demo's own panel: place an order (optionally forcing a declined card), see the newest orders and
// the inventory levels. Placing an order opens its saga in the Sagas panel.

const SKUS = ['apple', 'pear', 'plum', 'fig'];

export default function mount(el, api) {
  const { h } = api;
  const sku = h('select', {}, ...SKUS.map((s) => h('option', { value: s }, s)));
  sku.dataset.testid = 'order-sku';
  const qty = h('input', { type: 'number', value: '1', min: '1', max: '1000', style: 'width:60px' });
  qty.dataset.testid = 'order-qty';
  const amount = h('input', { type: 'number', value: '30', min: '0', style: 'width:80px' });
  const address = h('input', { value: '1 Main St', size: 14 });
  address.dataset.testid = 'order-address';
  const decline = h('input', { type: 'checkbox' });
  decline.dataset.testid = 'order-decline';
  const place = h('button', {}, 'Place order');
  place.dataset.testid = 'place-order';
  const msg = h('div', { className: 'msg' });
  msg.dataset.testid = 'order-result';
  const orders = h('tbody');
  const stock = h('tbody');
  el.append(
    h('h2', {}, 'Orders'),
    h('div', { className: 'row' }, sku, qty, h('span', { className: 'dim' }, 'amount'), amount, h('span', { className: 'dim' }, 'address'), address),
    h('div', { className: 'row' }, h('label', {}, decline, ' force payment decline'), place),
    msg,
    h('table', {}, h('thead', {}, h('tr', {}, ...['order', 'status', 'amount', 'items'].map((t) => h('th', {}, t)))), orders),
    h('table', {}, h('thead', {}, h('tr', {}, ...['sku', 'available', 'held'].map((t) => h('th', {}, t)))), stock),
  );

  place.addEventListener('click', async () => {
    msg.className = 'msg';
    const body = { items: [{ sku: sku.value, qty: Number(qty.value) }], payment: { card: decline.checked ? 'declined' : '4242', amount: Number(amount.value) } };
    if (address.value) body.address = address.value;
    try {
      const r = await api.post('/api/orders', body);
      msg.textContent = `order ${r.orderId} placed: its saga is running`;
      api.emit('select-saga', r.sagaId);
    } catch (e) {
      msg.className = 'msg error';
      msg.textContent = api.errorText(e);
    }
  });

  let busy = false;
  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      const [o, inv] = await Promise.all([api.get('/api/orders?limit=8'), api.get('/api/inventory')]);
      orders.replaceChildren(...o.orders.map((r) => h('tr', {}, h('td', {}, r.orderId), h('td', {}, h('span', { className: `pill s-${r.status}` }, r.status)),
        h('td', {}, r.amount), h('td', { className: 'dim' }, r.items.map((i) => `${i.qty} ${i.sku}`).join(', ')))));
      stock.replaceChildren(...inv.levels.map((l) => h('tr', {}, h('td', {}, l.sku), h('td', {}, l.available), h('td', { className: 'dim' }, l.held))));
    } catch { /* the next tick retries */ } finally {
      busy = false;
    }
  }
  api.on('stats', refresh);
  void refresh();
}
