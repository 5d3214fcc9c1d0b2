/**
 * `npm run walkthrough`: a short tour of the Tessera event store on an embedded SQLite file (no server).
 *
 * Appends to a shopping cart and a bank account, catches a concurrency conflict, folds streams into state
 * (now and as of the past), retries an append idempotently and reads the global log. Every run uses fresh
 * stream ids, so it can be run again and again on the same file.
 *
 * @example
 * ```sh
 * npm run walkthrough                         # ./data/tessera.db
 * TESSERA_DB=/tmp/demo.db npm run walkthrough # another file
 * ```
 * @module
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { keyValues, table, truncate } from '../src/cli/format.js';
import { ConcurrencyError, openSqliteEventStore, type RecordedEvent } from '../src/index.js';

// `npm run walkthrough | head` closes the pipe early: a normal way to stop reading, not a failure.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exitCode = 0;
});

const dbPath = resolve(process.env.TESSERA_DB ?? './data/tessera.db');
mkdirSync(dirname(dbPath), { recursive: true });
const store = await openSqliteEventStore({ path: dbPath });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const heading = (title: string) => console.log(`\n${title}\n${'='.repeat(title.length)}`);

try {
  // The run number is itself an event: the version of the `walkthrough-runs` stream after appending to it.
  const started = await store.appendToStream('walkthrough-runs', [{ type: 'WalkthroughStarted', data: { pid: process.pid } }]);
  const run = started.nextExpectedVersion;
  const cart = `cart-${run}`;
  const account = `account-${run}`;
  console.log(`Tessera walk-through, run ${run}`);
  console.log(keyValues([
    ['database', `${dbPath} (SQLite, WAL, synchronous=FULL)`],
    ['streams', `${cart}, ${account}`],
  ]));

  heading('1. Append events to streams');
  const appends: string[][] = [];
  const append = async (stream: string, events: { type: string; data: unknown }[], expectedVersion: bigint | 'no_stream') => {
    const r = await store.appendToStream(stream, events, { expectedVersion });
    appends.push([stream, events.map((e) => e.type).join(', '), String(expectedVersion), String(r.nextExpectedVersion), String(r.lastGlobalPosition)]);
    return r;
  };
  // One append is one transaction: the three cart events are stored together or not at all.
  await append(cart, [
    { type: 'CartOpened', data: { customer: 'ann' } },
    { type: 'ItemAdded', data: { sku: 'BOOK-1', qty: 1, price: 12.5 } },
    { type: 'ItemAdded', data: { sku: 'MUG-2', qty: 2, price: 8 } },
  ], 'no_stream');
  await append(cart, [{ type: 'ItemRemoved', data: { sku: 'BOOK-1' } }], 3n);
  await append(account, [{ type: 'AccountOpened', data: { owner: 'ann' } }], 'no_stream');
  await append(account, [{ type: 'Deposited', data: { amount: 100 } }], 1n);
  // A point in time between the deposit and the withdrawal, for the temporal query below.
  await sleep(5);
  const beforeWithdrawal = new Date();
  await sleep(5);
  await append(account, [{ type: 'Withdrawn', data: { amount: 30 } }], 2n);
  console.log(table(['stream', 'events', 'expected', 'version', 'position'], appends, ['left', 'left', 'right', 'right', 'right']));

  heading('2. Optimistic concurrency: two writers, one stream');
  const seenByBoth = (await store.readStream(cart, { direction: 'backward', maxCount: 1 }))[0]!.streamVersion;
  console.log(`Writers A and B both read ${cart} at version ${seenByBoth}.`);
  const a = await store.appendToStream(cart, [{ type: 'ItemAdded', data: { sku: 'PEN-3', qty: 1, price: 3 } }], { expectedVersion: seenByBoth });
  console.log(`A appends ItemAdded expecting version ${seenByBoth}: ok, now at version ${a.nextExpectedVersion}.`);
  try {
    await store.appendToStream(cart, [{ type: 'CheckedOut', data: {} }], { expectedVersion: seenByBoth });
    throw new Error('the conflicting append was accepted');
  } catch (e) {
    if (!(e instanceof ConcurrencyError)) throw e;
    console.log(`B appends CheckedOut expecting version ${seenByBoth}: rejected, nothing written.`);
    console.log(keyValues([
      ['  error', e.name],
      ['  code', e.code],
      ['  expected', String(e.expected)],
      ['  actual', String(e.actual)],
      ['  hint', e.hint],
    ]));
    const retried = await store.appendToStream(cart, [{ type: 'CheckedOut', data: {} }], { expectedVersion: e.actual });
    console.log(`B re-reads (version ${e.actual}), decides again and appends: ok, now at version ${retried.nextExpectedVersion}.`);
  }

  heading('3. Aggregate state from events');
  type Cart = { items: Record<string, { qty: number; price: number }>; checkedOut: boolean };
  const cartState = await store.aggregateStream<Cart>(cart, {
    initialState: () => ({ items: {}, checkedOut: false }),
    evolve: (s, e) => {
      const d = e.data as { sku: string; qty: number; price: number };
      if (e.type === 'ItemAdded') return { ...s, items: { ...s.items, [d.sku]: { qty: d.qty, price: d.price } } };
      if (e.type === 'ItemRemoved') return { ...s, items: Object.fromEntries(Object.entries(s.items).filter(([sku]) => sku !== d.sku)) };
      if (e.type === 'CheckedOut') return { ...s, checkedOut: true };
      return s;
    },
    // Stores the folded state every 2 events, so the next aggregation starts from it instead of version 1.
    snapshot: { schemaVersion: 1, every: 2 },
  });
  const items = Object.entries(cartState.state.items);
  const total = items.reduce((sum, [, i]) => sum + i.qty * i.price, 0);
  console.log(`${cart} at version ${cartState.version}: ${items.map(([sku, i]) => `${i.qty} x ${sku}`).join(', ')}; total ${total.toFixed(2)}; ${cartState.state.checkedOut ? 'checked out' : 'open'}`);

  const balance = { initialState: () => 0, evolve: (b: number, e: RecordedEvent) => b + ((e.data as { amount?: number }).amount ?? 0) * (e.type === 'Withdrawn' ? -1 : 1) };
  const now = await store.aggregateStream(account, balance);
  const atV1 = await store.aggregateStream(account, { ...balance, asOf: { version: 1n } });
  const atTime = await store.aggregateStream(account, { ...balance, asOf: { time: beforeWithdrawal } });
  console.log(`${account} balance, now and in the past (temporal queries):`);
  console.log(table(['as of', 'version', 'balance'], [
    ['now', String(now.version), String(now.state)],
    ['version 1', String(atV1.version), String(atV1.state)],
    [`time ${beforeWithdrawal.toISOString()}`, String(atTime.version), String(atTime.state)],
  ], ['left', 'right', 'right']));

  heading('4. Idempotent retry with an event id');
  const deposit = { id: `deposit-${run}-1`, type: 'Deposited', data: { amount: 5 } };
  const first = await store.appendToStream(account, [deposit]);
  // As if the first response had been lost on the way back: the same call again stores nothing new.
  const retry = await store.appendToStream(account, [deposit]);
  console.log(table(['call', 'version', 'position'], [
    ['first', String(first.nextExpectedVersion), String(first.lastGlobalPosition)],
    ['retry', String(retry.nextExpectedVersion), String(retry.lastGlobalPosition)],
  ], ['left', 'right', 'right']));
  console.log(`${account} holds ${(await store.readStream(account)).length} events: the deposit is stored once.`);

  heading('5. The global log (this run)');
  const log = await store.readAll({ fromPosition: started.lastGlobalPosition });
  console.log(table(['position', 'stream', 'version', 'type', 'data'], log.map((e) => [
    String(e.globalPosition), e.streamId, String(e.streamVersion), e.type, truncate(JSON.stringify(e.data), 48),
  ]), ['right', 'left', 'right', 'left', 'left']));
  let inAll = 0;
  for await (const _ of store.streamAll()) inAll++;
  console.log(`The file holds ${inAll} events in all (counted with streamAll, which reads in pages with flat memory).`);

  heading('Next');
  const db = process.env.TESSERA_DB ? ` --db ${dbPath}` : '';
  console.log(keyValues([
    [`npx tessera read ${cart}${db}`, "the cart's events"],
    [`npx tessera stats${db}`, 'counts, size and the biggest streams'],
    [`npx tessera tail${db}`, 'follow new events live (run npm run walkthrough in another terminal)'],
  ]));
} finally {
  await store.close();
}
