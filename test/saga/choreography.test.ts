import { afterEach, describe, expect, it } from 'vitest';
import { type EventStore, InProcessEventBus, openSqliteEventStore, type OutboxRelay, startOutboxRelay, storeDatabase } from '../../src/index.js';
import { type Participant, startParticipant } from '../../src/index.js';

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never happened: ${what}`);
}

describe('choreography participants over the event bus', () => {
  const running: Array<{ stop(): Promise<void> }> = [];
  const stores: EventStore[] = [];
  afterEach(async () => {
    for (const r of running.splice(0).reverse()) await r.stop();
    for (const s of stores.splice(0)) await s.close();
  });

  it('orders and payments converse by events: charge or decline, and the order compensates on a decline, exactly once', async () => {
    const bus = new InProcessEventBus();
    const orders = await openSqliteEventStore();
    const payments = await openSqliteEventStore();
    stores.push(orders, payments);
    await storeDatabase(payments).exec('CREATE TABLE charges (order_id TEXT PRIMARY KEY, amount INTEGER NOT NULL)');
    let paymentReactions = 0;
    const relays: OutboxRelay[] = [await startOutboxRelay({ store: orders, bus, name: 'orders' }), await startOutboxRelay({ store: payments, bus, name: 'payments' })];
    const participants: Participant[] = [
      await startParticipant({
        store: payments,
        bus,
        name: 'payments',
        on: {
          OrderPlaced: async (e, { tx, emit }) => {
            paymentReactions++;
            const { orderId, amount } = e.data as { orderId: string; amount: number };
            if (amount > 100) return void (await emit(`payment-${orderId}`, [{ type: 'PaymentDeclined', data: { orderId } }]));
            await tx.sql.run('INSERT INTO charges (order_id, amount) VALUES (?, ?)', [orderId, amount]);
            await emit(`payment-${orderId}`, [{ type: 'PaymentCharged', data: { orderId } }]);
          },
        },
      }),
      await startParticipant({
        store: orders,
        bus,
        name: 'orders',
        on: {
          PaymentCharged: async (e, { emit }) => void (await emit(`order-${(e.data as { orderId: string }).orderId}`, [{ type: 'OrderConfirmed', data: {} }])),
          // The compensation of choreography: react to the failure event by undoing locally.
          PaymentDeclined: async (e, { emit }) => void (await emit(`order-${(e.data as { orderId: string }).orderId}`, [{ type: 'OrderCancelled', data: { reason: 'payment declined' } }])),
        },
      }),
    ];
    running.push(...relays, ...participants);

    await orders.appendToStream('order-1', [{ type: 'OrderPlaced', data: { orderId: '1', amount: 30 } }], { correlationId: 'conv-1' });
    await orders.appendToStream('order-2', [{ type: 'OrderPlaced', data: { orderId: '2', amount: 500 } }], { correlationId: 'conv-2' });
    const types = async (id: string) => (await orders.readStream(id)).map((e) => e.type);
    await until(async () => (await types('order-1')).length === 2 && (await types('order-2')).length === 2, 'both orders settled');
    expect(await types('order-1')).toEqual(['OrderPlaced', 'OrderConfirmed']);
    expect(await types('order-2')).toEqual(['OrderPlaced', 'OrderCancelled']);
    const cancelled = (await orders.readStream('order-2'))[1]!;
    expect(cancelled.metadata).toMatchObject({ correlationId: 'conv-2' });
    const declined = (await payments.readStream('payment-2'))[0]!;
    expect(cancelled.metadata?.causationId).toBe(declined.id);

    // A redelivery (the bus delivers at least once) changes nothing: the reaction is deduplicated.
    const placed = (await orders.readStream('order-1'))[0]!;
    await participants[0]!.stop();
    const replayBus = new InProcessEventBus();
    const replay = await startParticipant({
      store: payments,
      bus: replayBus,
      name: 'payments',
      on: { OrderPlaced: async () => void paymentReactions++ },
    });
    running.push(replay);
    await replayBus.publish(placed);
    await new Promise((r) => setTimeout(r, 100));
    expect(paymentReactions).toBe(2);
    const [row] = await storeDatabase(payments).query<{ n: number }>('SELECT count(*) AS n FROM charges');
    expect(Number(row!.n)).toBe(1);
  });

  it('rejects bad options', async () => {
    const store = await openSqliteEventStore();
    stores.push(store);
    const bus = new InProcessEventBus();
    await expect(startParticipant({ store, bus, name: '', on: {} })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(startParticipant({ store, bus, name: 'p', on: { X: 'nope' as never } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(startParticipant({ store, bus: {} as never, name: 'p', on: {} })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
