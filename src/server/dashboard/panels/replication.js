// Replication: the log-shipping follower's position, lag (events and ms, with a one-minute line), copy rate,
// the replica set's replicas with their lag over time (PostgreSQL), and the admin action "verify" (the copy compared event by
// event with the source up to the checkpoint).

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
  // Shown only when the service runs on PostgreSQL with streaming replicas configured.
  const setBody = h('tbody');
  const setMeta = h('div', { className: 'dim' });
  const set = h('div', { hidden: true }, h('h2', {}, 'Replica set'), setMeta,
    h('table', {}, h('thead', {}, h('tr', {}, ...['replica', 'health', 'rotation', 'lag bytes', 'lag ms', 'lag ms, last probes', 'sync'].map((t) => h('th', {}, t)))), setBody));
  set.dataset.testid = 'replica-set';
  el.append(set);

  function showSet(s) {
    set.hidden = false;
    setMeta.textContent = `primary ${s.primary.name} (${s.primary.healthy ? 'healthy' : 'unreachable'}) at ${s.primary.lsn} · ${s.failovers} failover(s) followed`;
    setBody.replaceChildren(...s.replicas.map((r) => {
      const chart = h('canvas', { width: 160, height: 28 });
      chart.dataset.testid = `replica-lag-chart-${r.name}`;
      const tr = h('tr', { title: r.reason ?? '' }, h('td', {}, r.name),
        h('td', {}, h('span', { className: `pill ${r.healthy ? 's-live' : 's-failed'}` }, r.healthy ? 'healthy' : r.reason ?? 'unhealthy')),
        h('td', {}, r.inRotation ? 'in' : 'out'), h('td', {}, String(r.lagBytes)), h('td', {}, String(r.lagMs)), h('td', {}, chart),
        h('td', {}, r.syncState ?? '—'));
      tr.dataset.testid = `replica-set-${r.name}`;
      // Lag over time: the monitor's recent probes of this replica (the same history /api/replication returns).
      drawSparkline(chart, s.history.map((p) => p.lagMs[r.name] ?? 0), '--warn');
      return tr;
    }));
  }

  api.on('stats', async () => {
    if (busy) return;
    busy = true;
    try {
      const data = await api.get('/api/replication');
      const r = data.follower;
      f.label.textContent = r.label;
      f.position.textContent = `${r.sourcePosition} / ${r.head}`;
      f.lag.textContent = `${r.lagExact ? '' : '≥ '}${r.lagEvents} events · ${(r.lagMs / 1000).toFixed(2)} s`;
      f.rate.textContent = r.copyRate === null ? 'measuring…' : `${r.copyRate.toFixed(1)} events/s`;
      f.copied.textContent = `${r.copied} events${r.updatedAt ? `, last batch ${new Date(r.updatedAt).toLocaleTimeString()}` : ''}`;
      samples.push(r.lagEvents);
      if (samples.length > 60) samples.shift();
      drawSparkline(canvas, samples, '--warn');
      if (data.replicaSet) showSet(data.replicaSet);
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

