import assert from 'node:assert/strict';
import { defineSaga, openSagaEngine, openSqliteEventStore, storeDatabase } from 'tessera';

let refundWorks = false;
const order = defineSaga<{ orderId: string }>({
  name: 'Order',
  version: 1,
  compensationRetry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 10 },
  steps: [
    {
      name: 'charge',
      action: async () => 'charged',
      compensate: async () => { if (!refundWorks) throw new Error('refund service down'); },
    },
    {
      name: 'recordOrder',
      transactional: true, // commits with the step's result: exactly once
      action: async ({ input, tx }) => {
        await tx!.sql.run('INSERT INTO orders (id) VALUES (?)', [input.orderId]);
        return 'recorded';
      },
    },
    { name: 'ship', retry: { maxAttempts: 1 }, action: async () => { throw new Error('no courier'); } },
  ],
});

const store = await openSqliteEventStore();
await storeDatabase(store).exec('CREATE TABLE orders (id TEXT PRIMARY KEY)');
const engine = await openSagaEngine({ store, sagas: [order] });

await engine.start('Order', 'o-1', { orderId: 'o-1' });
const stuck = await engine.waitForTerminal('o-1', { timeoutMs: 10_000 });
assert.equal(stuck.status, 'compensation_failed'); // visible, never silent
assert.match(stuck.error ?? '', /refund service down/);

refundWorks = true; // the cause is fixed
await engine.retryCompensation('o-1'); // or: tessera sagas retry o-1
assert.equal((await engine.waitForTerminal('o-1', { timeoutMs: 10_000 })).status, 'compensated');
const steps = (await engine.get('o-1'))!.steps.map((s) => `${s.phase}:${s.name}:${s.state}`);
assert.deepEqual(steps, ['do:charge:succeeded', 'do:recordOrder:succeeded', 'do:ship:failed', 'undo:charge:succeeded']);

const waiting = defineSaga<{ id: string }>({
  name: 'Approval', version: 1,
  steps: [{ name: 'await', waitForSignal: { name: 'approved' }, action: async ({ signalPayload }) => signalPayload }],
});
const engine2 = await openSagaEngine({ store, sagas: [waiting] });
await engine2.start('Approval', 'a-1', { id: 'a-1' });
while ((await engine2.get('a-1'))?.status !== 'waiting') await new Promise((resolve) => setTimeout(resolve, 10));
await engine2.cancel('a-1'); // a saga waiting for a signal; or: tessera sagas cancel a-1
assert.equal((await engine2.waitForTerminal('a-1', { timeoutMs: 10_000 })).status, 'cancelled');

// Every status change is also an event in the stream saga-<id>, for projections and the outbox relay.
assert.deepEqual((await store.readStream('saga-o-1')).map((e) => e.type), [
  'SagaStarted', 'SagaCompensating', 'SagaCompensationFailed', 'SagaCompensationRetried', 'SagaCompensated',
]);
await engine2.stop();
await engine.stop();
await store.close();
console.log('sagas: compensation, re-drive and cancel checked');
