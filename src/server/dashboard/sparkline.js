// A one-minute line of numbers on a canvas (the last 60 samples, scaled to the largest), for any panel.
/* global document, getComputedStyle */

export function drawSparkline(canvas, samples, colorVar = '--accent') {
  const ctx = canvas.getContext('2d');
  const max = Math.max(1, ...samples);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.strokeStyle = getComputedStyle(document.body).getPropertyValue(colorVar) || '#58a6ff';
  ctx.lineWidth = 2;
  ctx.beginPath();
  samples.forEach((v, i) => {
    const x = (i / 59) * canvas.width;
    const y = canvas.height - 4 - (v / max) * (canvas.height - 8);
    if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
  });
  ctx.stroke();
}
