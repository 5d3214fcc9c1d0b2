import type { TesseraApp } from '../../src/server/index.js';

const SKUS = ['apple', 'pear', 'plum', 'fig'];

/**
 * Drives a steady load of orders through the service's own HTTP route (`inject`, so validation, logging and
 * metrics see them as real requests): `perSecond` orders a second, random items, some without an address.
 *
 * @example
 * ```ts
 * const sim = startSimulation(svc.app, 20);
 * await sim.stop();
 * ```
 */
export function startSimulation(app: TesseraApp, perSecond: number, random: () => number = Math.random): { stop(): Promise<void>; placed(): number } {
  let placed = 0;
  const inFlight = new Set<Promise<unknown>>();
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const timer = setInterval(() => {
    if (inFlight.size > perSecond * 5) return; // the service is behind: do not pile up requests
    const items = [{ sku: pick(SKUS), qty: 1 + Math.floor(random() * 3) }];
    const body = { items, payment: { card: '4242', amount: 10 + Math.floor(random() * 90) }, ...(random() < 0.03 ? {} : { address: `${1 + Math.floor(random() * 99)} Main St` }) };
    const p = app.inject({ method: 'POST', url: '/api/orders', payload: body, headers: { 'x-correlation-id': `sim-${placed}`, 'x-simulated': '1' } }).then(() => placed++, () => undefined);
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }, 1000 / perSecond);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(inFlight);
    },
    placed: () => placed,
  };
}
