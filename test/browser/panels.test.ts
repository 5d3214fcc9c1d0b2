import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenService } from '../../src/server/index.js';
import { type OrderService, startOrderService } from '../../examples/orders/service.js';
import { launchChromium, SHOTS } from './chromium.js';
import { ADMIN_TOKEN, orderBody } from '../server/harness.js';
import { useScaleOutService } from '../server/panels-harness.js';
import { type PgCluster, startPgCluster } from '../support/pg-cluster.js';
import { type PgReplica, startPgReplica, waitForReplay } from '../support/pg-replica.js';
import { freshSchemaName } from '../support/pg-schema.js';
import { tempDir } from '../support/tmp.js';


describe('scale-out panels in headless Chromium', () => {
  const service = useScaleOutService();
  let browser: Browser;
  let page: Page;
  let url: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const svc = await service();
    url = await listenService(svc.app, { port: 0 });
    for (const id of ['b-1', 'b-2', 'b-3', 'b-4']) await svc.app.inject({ method: 'POST', url: '/api/orders', payload: orderBody(id) });
    for (const id of ['b-1', 'b-2', 'b-3', 'b-4']) await svc.engine.waitForTerminal(id, { timeoutMs: 30_000 });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${url}/dashboard/`);
    await page.getByTestId('live-status').filter({ hasText: 'live' }).waitFor({ timeout: 30_000 });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows both notification members with 4 partitions each, and every partition with an owner and no lag', async () => {
    for (const m of ['notifier-1', 'notifier-2']) {
      await expect.poll(() => page.getByTestId(`group-notifications-member-${m}`).textContent(), { timeout: 30_000 }).toMatch(/live.*\(4\)$/);
    }
    await expect.poll(() => page.getByTestId('group-notifications').textContent(), { timeout: 30_000 }).toContain('lag 0');
    for (let p = 0; p < 8; p++) expect(await page.getByTestId(`group-notifications-partition-${p}`).textContent()).toMatch(/^P\d+ M[12]@\d+ · lag 0$/);
  });

  it('shows the follower caught up, and verify needs the admin token, then reports identical', async () => {
    await expect.poll(() => page.getByTestId('replica-lag').textContent(), { timeout: 30_000 }).toBe('0 events · 0.00 s');
    const head = (await (await service()).store.readAll({ fromPosition: 1n, maxCount: 100_000 })).length;
    await expect.poll(() => page.getByTestId('replica-copied').textContent(), { timeout: 30_000 }).toMatch(new RegExp(`^${head} events`));
    await page.getByTestId('replica-verify').click();
    await expect.poll(() => page.getByTestId('replica-verify-result').textContent(), { timeout: 30_000 }).toContain('ADMIN_TOKEN_REQUIRED');
    await page.locator('#admin-token').fill(ADMIN_TOKEN);
    await page.locator('#admin-token').dispatchEvent('change');
    await page.getByTestId('replica-verify').click();
    await expect.poll(() => page.getByTestId('replica-verify-result').textContent(), { timeout: 30_000 }).toMatch(/^identical \d+ events in \d+ streams/);
  });

  it('shows the shard map with every event on some shard, routes a key, and is screenshotted', async () => {
    await expect.poll(() => page.getByTestId('shards-map').textContent(), { timeout: 30_000 }).toMatch(/^epoch 1 · hash over 4096 slots/);
    const total = (await (await service()).store.readAll({ fromPosition: 1n, maxCount: 100_000 })).length;
    await expect.poll(async () => {
      let sum = 0;
      for (const id of ['a', 'b', 'c']) sum += Number((await page.getByTestId(`shard-${id}`).locator('td').nth(2).textContent()) ?? 'NaN');
      return sum;
    }, { timeout: 30_000 }).toBe(total);
    await page.getByTestId('shard-key').fill('order-b-1');
    await page.getByTestId('shard-route').click();
    const route = (await service()).scaleOut!.shards.router.route('order-b-1');
    await expect.poll(() => page.getByTestId('shard-route-result').textContent(), { timeout: 30_000 })
      .toBe(`order-b-1 → shard ${route.shard} (slot ${route.slot}) under epoch 1`);
    await page.locator('#panel-shards').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'dashboard-panels.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});

describe('replication panel with a PostgreSQL replica set, in headless Chromium', () => {
  const tmp = tempDir('tessera-panels-pg-browser-');
  let primary: PgCluster;
  let replicas: PgReplica[] = [];
  let svc: OrderService;
  let browser: Browser;

  beforeAll(async () => {
    primary = await startPgCluster();
    replicas = await Promise.all([startPgReplica(primary, 'r1'), startPgReplica(primary, 'r2')]);
    svc = await startOrderService({
      db: `${primary.url}?schema=${freshSchemaName('panels')}`, logger: false, pollIntervalMs: 20, scaleOut: { dir: tmp.dir, replicas: replicas.map((r) => r.url) },
    });
    await waitForReplay(primary.url, replicas);
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await svc?.close();
    await Promise.all(replicas.map((r) => r.destroy()));
    await primary?.destroy();
    tmp.remove();
  });

  it('lists both replicas as healthy and in rotation', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${await listenService(svc.app, { port: 0 })}/dashboard/`);
    for (const r of replicas) {
      await expect.poll(() => page.getByTestId(`replica-set-${new URL(r.url).host}`).locator('td').nth(1).textContent(), { timeout: 30_000 }).toBe('healthy');
      expect(await page.getByTestId(`replica-set-${new URL(r.url).host}`).locator('td').nth(2).textContent()).toBe('in');
      // Lag over time: one chart per replica, drawn from the monitor's history.
      expect(await page.getByTestId(`replica-lag-chart-${new URL(r.url).host}`).count()).toBe(1);
    }
    await page.locator('#panel-replication').screenshot({ path: join(SHOTS, 'dashboard-replica-set.png') });
    expect(errors).toEqual([]);
  });
});
