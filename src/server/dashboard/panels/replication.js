// Replication: the log-shipping follower's position, lag (events and ms, with a one-minute line), copy rate,
// and the admin action "verify" (the copy compared event by event with the source up to the checkpoint).

import { drawSparkline } from '../sparkline.js';

export default function mount(el, api) {
  const { h } = api;
  const field = (id) => {
    const span = h('span', {}, '…');
    span.dataset.testid = `replica-${id}`;
    return span;
  };
  const f = { label: field('label'), position: field('position'), lag: field('lag'), rate: field('rate'), copied: field('copied') };
  const canvas = h('canvas', { width: 420, height: 50 });
  const verify = h('button', {}, 'Verify');
  verify.dataset.testid = 'replica-verify';
  const result = h('div', { className: 'msg' });
  result.dataset.testid = 'replica-verify-result';
  const rows = [['copy', f.label], ['position / head', f.position], ['lag', f.lag], ['copy rate', f.rate], ['copied', f.copied]];
  el.append(h('h2', {}, 'Replication'),
    h('table', {}, h('tbody', {}, ...rows.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v))))),
    h('div', { className: 'dim' }, 'lag in events, last minute'), canvas,
    h('div', { className: 'row' }, verify, h('span', { className: 'dim' }, 'compares ids, streams, versions and hashes up to the checkpoint')), result);
  const samples = [];
  let busy = false;

  api.on('stats', async () => {
    if (busy) return;
    busy = true;
    try {
      const { follower: r } = await api.get('/api/replication');
      f.label.textContent = r.label;
      f.position.textContent = `${r.sourcePosition} / ${r.head}`;
      f.lag.textContent = `${r.lagExact ? '' : '≥ '}${r.lagEvents} events · ${(r.lagMs / 1000).toFixed(2)} s`;
      f.rate.textContent = r.copyRate === null ? 'measuring…' : `${r.copyRate.toFixed(1)} events/s`;
      f.copied.textContent = `${r.copied} events${r.updatedAt ? `, last batch ${new Date(r.updatedAt).toLocaleTimeString()}` : ''}`;
      samples.push(r.lagEvents);
      if (samples.length > 60) samples.shift();
      drawSparkline(canvas, samples, '--warn');
    } catch (e) {
      f.lag.textContent = api.errorText(e);
    } finally {
      busy = false;
    }
  });

  verify.addEventListener('click', async () => {
    result.className = 'msg';
    result.textContent = 'verifying…';
    try {
      const v = await api.post('/api/replication/verify');
      const head = `${v.sourceEvents} events in ${v.streams} streams up to position ${v.untilSourcePosition} (${v.ms} ms)`;
      if (v.identical) {
        result.replaceChildren(h('span', { className: 'pill s-live' }, 'identical'), ` ${head}, digest ${v.sourceDigest}`);
      } else {
        const first = v.divergences.map((d) => `#${d.index} ${d.kind} ${d.streamId} ${d.eventId}${d.fields.length ? ` (${d.fields.join(', ')})` : ''}`);
        result.replaceChildren(h('span', { className: 'pill s-failed' }, 'divergent'), ` ${v.divergenceCount} divergence(s); ${head}`,
          h('pre', {}, first.join('\n')));
      }
    } catch (e) {
      result.className = 'msg error';
      result.textContent = api.errorText(e);
    }
  });
}

