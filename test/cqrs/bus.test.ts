import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  CommandValidationError,
  createCommandBus,
  createQueryBus,
  handleCommand,
  InvalidArgumentError,
  isTesseraError,
  loggingMiddleware,
  openSqliteEventStore,
  tracingMiddleware,
  UnknownCommandError,
} from '../../src/index.js';
import { cartDecider } from './fixtures/cart.js';

describe('command bus', () => {
  it('validates with zod, runs middleware in order and returns the handler result', async () => {
    const store = await openSqliteEventStore();
    const seen: string[] = [];
    const spans: Array<{ type: string; ok: boolean }> = [];
    const bus = createCommandBus({
      middleware: [
        loggingMiddleware((line) => seen.push(line)),
        tracingMiddleware({ start: (m) => ({ type: m.type }), end: (s, o) => spans.push({ type: s.type, ok: o.ok }) }),
      ],
    }).register('AddItem', {
      schema: z.object({ cartId: z.string().min(1), sku: z.string(), qty: z.number().int().positive(), price: z.number().default(10) }),
      handle: (p) => handleCommand(store, p.cartId, { type: 'AddItem', sku: p.sku, qty: p.qty, price: p.price }, cartDecider),
    });
    const r = await bus.send('AddItem', { cartId: 'c1', sku: 'A', qty: 2, price: 10 });
    expect(r.state.total).toBe(20);
    const bad = await bus.send('AddItem', { cartId: 'c1', sku: 'A', qty: -1, price: 1 }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(CommandValidationError);
    expect(isTesseraError(bad, 'COMMAND_VALIDATION_FAILED')).toBe(true);
    expect((bad as CommandValidationError).issues[0]?.path).toBe('qty');
    expect(seen).toEqual(['command AddItem ok', 'command AddItem failed']);
    expect(spans).toEqual([{ type: 'AddItem', ok: true }, { type: 'AddItem', ok: false }]);
    expect((await store.readStream('c1')).length).toBe(1);
    await store.close();
  });

  it('refuses unknown commands, double registration and bad middleware', async () => {
    const bus = createCommandBus().register('Ping', { handle: () => 'pong' as const });
    expect(await bus.send('Ping', undefined)).toBe('pong');
    const unknown = await (bus as unknown as { send(t: string, p: unknown): Promise<unknown> }).send('Pong', {}).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(UnknownCommandError);
    expect((unknown as UnknownCommandError).code).toBe('UNKNOWN_COMMAND');
    expect(() => bus.register('Ping', { handle: () => 'again' })).toThrow(InvalidArgumentError);
    expect(() => bus.register('NoHandler', {} as never)).toThrow(InvalidArgumentError);
    expect(() => bus.use(42 as never)).toThrow(InvalidArgumentError);
  });

  it('lets a middleware short-circuit and rewrite metadata', async () => {
    const handled: unknown[] = [];
    const bus = createCommandBus()
      .use(async (m, next) => (m.metadata.user === 'blocked' ? 'denied' : next()))
      .register('Do', { handle: (_p: unknown, m) => (handled.push(m.metadata.user), 'done') });
    expect(await bus.send('Do', {}, { metadata: { user: 'blocked' } })).toBe('denied');
    expect(await bus.send('Do', {}, { metadata: { user: 'ann' } })).toBe('done');
    expect(handled).toEqual(['ann']);
  });
});

describe('query bus', () => {
  it('validates queries and rejects unknown ones with their own codes', async () => {
    const queries = createQueryBus().register('Double', { schema: z.object({ n: z.number() }), handle: (p) => p.n * 2 });
    expect(await queries.send('Double', { n: 21 })).toBe(42);
    const bad = await queries.send('Double', { n: 'x' } as never).catch((e: unknown) => e);
    expect(isTesseraError(bad, 'QUERY_VALIDATION_FAILED')).toBe(true);
    const unknown = await (queries as unknown as { send(t: string, p: unknown): Promise<unknown> }).send('Triple', {}).catch((e: unknown) => e);
    expect(isTesseraError(unknown, 'UNKNOWN_QUERY')).toBe(true);
    await expect(queries.send('Double', { n: 1 }, { consistency: 'read-your-writes' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(queries.send('Double', { n: 1 }, { consistency: 'strong' as never })).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
