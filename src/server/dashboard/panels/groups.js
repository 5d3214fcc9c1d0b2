// Consumer groups: members and the partitions each holds, checkpoint and lag per partition, refreshed every second.

export default function mount(el, api) {
  const { h } = api;
  const body = h('div');
  const msg = h('div', { className: 'msg' });
  el.append(h('h2', {}, 'Consumer groups'), body, msg);
  let busy = false;

  function groupView(g) {
    const live = g.members.filter((m) => m.live).length;
    const summary = h('div', { className: 'row' },
      h('strong', {}, g.group),
      h('span', { className: 'dim' }, `${g.partitions} partitions · ${live} live member${live === 1 ? '' : 's'} · head ${g.head}`),
      h('span', { className: `pill ${g.totalLag === 0 ? 's-live' : 's-catching_up'}` }, `lag ${g.totalLag}`));
    summary.dataset.testid = `group-${g.group}`;
    // Members get short tags (M1, M2, …) so a partition's owner fits in its small box.
    const tags = new Map(g.members.map((m, i) => [m.memberId, `M${i + 1}`]));
    const members = h('table', {},
      h('thead', {}, h('tr', {}, ...['', 'member', 'state', 'partitions'].map((t) => h('th', {}, t)))),
      h('tbody', {}, ...g.members.map((m) => {
        const tr = h('tr', {}, h('td', { className: 'dim' }, tags.get(m.memberId)), h('td', {}, m.memberId),
          h('td', {}, h('span', { className: `pill ${m.live ? 's-live' : 's-failed'}` }, m.live ? 'live' : 'gone')),
          h('td', {}, m.partitions.length === 0 ? '—' : `${m.partitions.join(', ')} (${m.partitions.length})`));
        tr.dataset.testid = `group-${g.group}-member-${m.memberId}`;
        return tr;
      })));
    const parts = h('div', { style: 'display:flex;flex-wrap:wrap;gap:6px;margin:8px 0 14px' }, ...g.partitionStatus.map((p) => {
      const lag = p.lagExact ? String(p.lag) : `≥ ${p.lag}`;
      const box = h('div', {
        title: `partition ${p.partition}: owner ${p.owner ?? 'none'}, checkpoint ${p.checkpoint}, lag ${lag}`,
        style: `border:1px solid var(--line);border-left:3px solid var(${p.owner === null ? '--bad' : p.lag === 0 ? '--ok' : '--warn'});border-radius:5px;padding:3px 7px;font-size:12px;min-width:92px`,
      }, h('strong', {}, `P${p.partition} `), h('span', { className: 'dim' }, p.owner === null ? 'unowned' : tags.get(p.owner) ?? p.owner),
      h('div', {}, `@${p.checkpoint} · lag ${lag}`));
      box.dataset.testid = `group-${g.group}-partition-${p.partition}`;
      return box;
    }));
    return h('div', { className: 'group' }, summary, members, parts);
  }

  api.on('stats', async () => {
    if (busy) return;
    busy = true;
    try {
      const { groups } = await api.get('/api/groups');
      body.replaceChildren(...(groups.length === 0 ? [h('div', { className: 'dim' }, 'no consumer groups yet')] : groups.map(groupView)));
      msg.className = 'msg';
      msg.textContent = '';
    } catch (e) {
      msg.className = 'msg error';
      msg.textContent = api.errorText(e);
    } finally {
      busy = false;
    }
  });
}
