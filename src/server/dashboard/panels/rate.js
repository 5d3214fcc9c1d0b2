// Events per second (from the live feed's stats) with a one-minute sparkline, and the log head.
import { drawSparkline } from '../sparkline.js';

export default function mount(el, api) {
  const { h } = api;
  const rate = h('span', { className: 'big' }, '0');
  rate.dataset.testid = 'events-per-sec';
  const head = h('span', { className: 'dim' }, '');
  const canvas = h('canvas', { width: 420, height: 60 });
  el.append(h('h2', {}, 'Events per second'), h('div', { className: 'row' }, rate, h('span', { className: 'dim' }, 'events/s'), head), canvas);
  const samples = [];
  api.on('stats', (s) => {
    rate.textContent = s.eventsPerSec.toFixed(1);
    head.textContent = `log head ${s.head}`;
    samples.push(s.eventsPerSec);
    if (samples.length > 60) samples.shift();
    drawSparkline(canvas, samples);
  });
}

