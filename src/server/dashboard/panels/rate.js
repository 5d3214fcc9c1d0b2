// Events per second (from the live feed's stats) with a one-minute sparkline, and the log head.
/* global document, getComputedStyle */

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
    draw(canvas, samples);
  });
}

function draw(canvas, samples) {
  const ctx = canvas.getContext('2d');
  const max = Math.max(1, ...samples);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.strokeStyle = getComputedStyle(document.body).getPropertyValue('--accent') || '#58a6ff';
  ctx.lineWidth = 2;
  ctx.beginPath();
  samples.forEach((v, i) => {
    const x = (i / 59) * canvas.width;
    const y = canvas.height - 4 - (v / max) * (canvas.height - 8);
    if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
  });
  ctx.stroke();
}
