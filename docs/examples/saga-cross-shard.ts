import assert from 'node:assert/strict';
import { type Decider, defineSaga, type EventStore, handleCommand, NonRetryableError, openSagaEngine, openSqliteEventStore } from 'tessera';

// Two shards: each is its own database, so no transaction can span both.
const shardA = await openSqliteEventStore();
const shardB = await openSqliteEventStore();
const shardOf = (account: string): EventStore => (account === 'alice' ? shardA : shardB);

type Account = { open: boolean; balance: number };
type AccountCommand = { type: 'Open' | 'Close' } | { type: 'Debit' | 'Credit' | 'Refund'; amount: number };
const account: Decider<Account, AccountCommand> = {
  initialState: () => ({ open: false, balance: 0 }),
  decide: (c, s) => {
    if (!('amount' in c)) return { type: c.type === 'Open' ? 'Opened' : 'Closed', data: {} };
    if (!s.open) throw new NonRetryableError('the account is closed'); // retrying cannot help: compensate
    if (c.type === 'Debit' && s.balance < c.amount) throw new NonRetryableError('insufficient funds');
    return { type: c.type === 'Debit' ? 'Debited' : c.type === 'Credit' ? 'Credited' : 'Refunded', data: { amount: c.amount } };
  },
  evolve: (s, e) => {
    const amount = (e.data as { amount?: number }).amount ?? 0;
    if (e.type === 'Opened' || e.type === 'Closed') return { ...s, open: e.type === 'Opened' };
    return { ...s, balance: s.balance + (e.type === 'Debited' ? -amount : amount) };
  },
};
const run = (id: string, command: AccountCommand, commandId?: string) =>
  handleCommand(shardOf(id), `account-${id}`, command, account, commandId === undefined ? {} : { commandId });

// The saga replaces the cross-shard transaction: each step is one local transaction on one shard, and a
// failure later on undoes the earlier steps. The idempotency key as command id makes every step and
// compensation safe to repeat after a crash (the same key appends nothing twice). Step results are
// stored as JSON, so the steps return nothing here (handleCommand's result holds bigints).
const transfer = defineSaga<{ from: string; to: string; amount: number }>({
  name: 'Transfer',
  version: 1,
  steps: [
    {
      name: 'debit',
      action: async ({ input, idempotencyKey }) => void (await run(input.from, { type: 'Debit', amount: input.amount }, idempotencyKey)),
      compensate: async ({ input, idempotencyKey }) => void (await run(input.from, { type: 'Refund', amount: input.amount }, idempotencyKey)),
    },
    {
      name: 'credit',
      action: async ({ input, idempotencyKey }) => void (await run(input.to, { type: 'Credit', amount: input.amount }, idempotencyKey)),
    },
  ],
});

await run('alice', { type: 'Open' });
await run('alice', { type: 'Credit', amount: 100 });
await run('bob', { type: 'Open' });
await run('carol', { type: 'Open' });
await run('carol', { type: 'Close' });

// The saga's own log lives in one database (here shard A's); any store can hold it.
const engine = await openSagaEngine({ store: shardA, sagas: [transfer] });
await engine.start('Transfer', 't-1', { from: 'alice', to: 'bob', amount: 30 });
assert.equal((await engine.waitForTerminal('t-1', { timeoutMs: 10_000 })).status, 'completed');
await engine.start('Transfer', 't-2', { from: 'alice', to: 'carol', amount: 50 }); // carol's account is closed
const t2 = await engine.waitForTerminal('t-2', { timeoutMs: 10_000 });
assert.equal(t2.status, 'compensated');
assert.deepEqual(t2.steps.map((s) => `${s.phase}:${s.name}:${s.state}`), ['do:debit:succeeded', 'do:credit:failed', 'undo:debit:succeeded']);

const balance = async (id: string) => (await shardOf(id).aggregateStream(`account-${id}`, account)).state.balance;
assert.deepEqual([await balance('alice'), await balance('bob'), await balance('carol')], [70, 30, 0]);
assert.deepEqual((await shardA.readStream('account-alice')).map((e) => e.type), ['Opened', 'Credited', 'Debited', 'Debited', 'Refunded']);

await engine.stop();
await Promise.all([shardA.close(), shardB.close()]);
console.log('sagas: a transfer across two shards, completed and compensated');
