import { describe, expect, it } from 'vitest';
import { isTesseraError } from '../../src/index.js';
import { isLoopback, listenService } from '../../src/server/index.js';
import { ADMIN_TOKEN, orderBody, useOrderService } from './harness.js';

describe('orders service over a real port', () => {
  const service = useOrderService();

  it('serves good and bad requests over HTTP, and streams live updates as server-sent events', async () => {
    const svc = await service();
    const url = await listenService(svc.app, { port: 0 });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const live = new AbortController();
    const stream = await fetch(`${url}/api/live`, { signal: live.signal });
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    const reader = stream.body!.getReader();

    const placed = await fetch(`${url}/api/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(orderBody('port-1')) });
    expect(placed.status).toBe(202);
    const bad = await fetch(`${url}/api/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items: 'none' }) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'INVALID_REQUEST' });
    expect(bad.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);

    // The live stream carries stats and the new events (the order's OrderPlaced among them).
    let text = '';
    const decoder = new TextDecoder();
    const deadline = Date.now() + 15_000;
    while (!(text.includes('event: stats') && text.includes('"OrderPlaced"')) && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    live.abort();
    expect(text).toContain('event: stats');
    expect(text).toMatch(/event: events\ndata: \[.*"streamId":"order-port-1"/);
    const admin = await fetch(`${url}/api/projections/order_list/rebuild`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(admin.status).toBe(202);
  });

  it('refuses to listen beyond loopback without an admin token', async () => {
    const svc = await service();
    const refused = await listenService(svc.app, { host: '0.0.0.0', port: 0 }).catch((e: unknown) => e);
    expect(isTesseraError(refused, 'UNSAFE_BIND')).toBe(true);
    expect((refused as { hint: string }).hint).toContain('TESSERA_ADMIN_TOKEN');
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('192.168.1.5')).toBe(false);
  });
});
