import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenService } from '../../src/server/index.js';
import { launchChromium, SHOTS } from './chromium.js';
import { ADMIN_TOKEN, useOrderService } from '../server/harness.js';


describe('dashboard in headless Chromium', () => {
  const service = useOrderService();
  let browser: Browser;
  let page: Page;
  let url: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    url = await listenService((await service()).app, { port: 0 });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${url}/dashboard/`);
    await page.getByTestId('live-status').filter({ hasText: 'live' }).waitFor({ timeout: 30_000 });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('places an order in the page and watches its saga complete, step by step', async () => {
    await page.getByTestId('order-sku').selectOption('plum');
    await page.getByTestId('order-qty').fill('3');
    await page.getByTestId('place-order').click();
    await expect.poll(() => page.getByTestId('order-result').textContent(), { timeout: 30_000 }).toMatch(/order gen-\d+ placed/);
    await page.getByTestId('saga-status').filter({ hasText: 'completed' }).waitFor({ timeout: 30_000 });
    for (const step of ['placeOrder', 'reserveInventory', 'chargePayment', 'createShipment', 'confirmOrder']) {
      await expect.poll(() => page.getByTestId(`step-${step}-do`).textContent()).toMatch(/attempt 1 · \d+ ms/);
    }
    expect(await page.getByTestId('saga-detail').getByText('undo').count()).toBe(0);
    // The orders panel and the saga counts follow through the projections.
    await page.locator('#panel-orders').getByText('confirmed').first().waitFor({ timeout: 30_000 });
    await page.getByTestId('saga-count-completed').waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(SHOTS, 'dashboard-order-completed.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('forces a payment failure and shows the compensation in the step timeline', async () => {
    await page.getByTestId('order-decline').check();
    await page.getByTestId('place-order').click();
    await page.getByTestId('saga-status').filter({ hasText: 'compensated' }).waitFor({ timeout: 30_000 });
    const detail = page.getByTestId('saga-detail');
    expect(await detail.textContent()).toContain('card declined');
    await expect.poll(() => page.getByTestId('step-chargePayment-do').textContent()).toContain('card declined');
    await expect.poll(() => page.getByTestId('step-reserveInventory-undo').textContent()).toMatch(/attempt 1 · \d+ ms/);
    await expect.poll(() => page.getByTestId('step-placeOrder-undo').textContent()).toMatch(/attempt 1/);
    expect(await page.getByTestId('step-createShipment-do').count()).toBe(0);
    await page.locator('#panel-orders').getByText('rejected').first().waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(SHOTS, 'dashboard-payment-compensated.png'), fullPage: true });
    await page.getByTestId('order-decline').uncheck();
    expect(pageErrors).toEqual([]);
  });

  it('refuses a rebuild without the admin token, then rebuilds a projection with live progress up to 100%', async () => {
    await page.getByTestId('rebuild-order_list').click();
    await page.locator('#panel-projections').getByText('ADMIN_TOKEN_REQUIRED').waitFor({ timeout: 10_000 });
    await page.locator('#admin-token').fill(ADMIN_TOKEN);
    await page.locator('#admin-token').dispatchEvent('change');
    // Enough log for the rebuild to take a few progress reports (it replays the whole log, not only order events).
    const { store } = await service();
    for (let i = 0; i < 10; i++) await store.appendToStream(`filler-${i}`, Array.from({ length: 1000 }, (_, n) => ({ type: 'Filler', data: { n } })));
    // Every percentage the page shows, in order, recorded in the page itself.
    await page.getByTestId('rebuild-progress-order_list').evaluate((el) => {
      const seen: string[] = [];
      (globalThis as unknown as { seenProgress: string[] }).seenProgress = seen;
      type Observer = new (cb: () => void) => { observe(target: unknown, o: object): void };
      const Mo = (globalThis as unknown as { MutationObserver: Observer }).MutationObserver;
      new Mo(() => seen.push(el.textContent ?? '')).observe(el, { childList: true, characterData: true, subtree: true });
    });
    await page.getByTestId('rebuild-order_list').click();
    await page.getByTestId('rebuild-progress-order_list').filter({ hasText: '100%' }).waitFor({ timeout: 30_000 });
    const seen = await page.evaluate(() => (globalThis as unknown as { seenProgress: string[] }).seenProgress);
    const percents = seen.map((t) => Number(/^(\d+(?:\.\d+)?)%/.exec(t)?.[1])).filter((n) => !Number.isNaN(n));
    expect(percents.at(-1)).toBe(100);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(await page.getByTestId('rebuild-progress-order_list').textContent()).toContain('swapped in');
    expect(await page.getByTestId('rebuild-bar-order_list').evaluate((el) => (el as { style: { width: string } }).style.width)).toBe('100%');
    await page.screenshot({ path: join(SHOTS, 'dashboard-rebuild-done.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('shows a projection parked on a failing event, and skipping the event from the page resumes it', async () => {
    const bad = await fetch(`${url}/api/streams/order-broken`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ events: [{ type: 'OrderPlaced', data: { amount: 1 } }] }),
    });
    expect(bad.status).toBe(201);
    const projections = page.locator('#panel-projections');
    await projections.getByText('has no orderId').waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(SHOTS, 'dashboard-projection-failed.png'), fullPage: true });
    await page.getByTestId('skip-order_list').click();
    await projections.getByText('order_list: skip requested').waitFor({ timeout: 10_000 });
    await expect.poll(() => projections.getByText('has no orderId').count(), { timeout: 20_000 }).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
