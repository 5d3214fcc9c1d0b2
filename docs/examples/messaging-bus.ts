import assert from 'node:assert/strict';
import { openEventBus, openSqliteEventStore, subjectFor } from 'tessera';

// In-process without a URL; TESSERA_BUS=nats://127.0.0.1:4222 runs the same code on NATS JetStream.
const bus = await openEventBus(process.env.TESSERA_BUS);
const store = await openSqliteEventStore();
await store.appendToStream('mail-1', [{ type: 'WelcomeMailRequested', data: { to: 'ann@example.com' } }]);
const [event] = await store.readStream('mail-1');

// publish waits until the bus stored the event; the same event id twice is stored once.
const first = await bus.publish(event!);
const again = await bus.publish(event!);
assert.deepEqual([first.duplicate, again.duplicate, again.sequence], [false, true, first.sequence]);
assert.equal(subjectFor(bus.prefix, 'mail-1', 'WelcomeMailRequested'), `${bus.prefix}.mail.WelcomeMailRequested`);

// A handler that keeps throwing is redelivered with backoff, then dead-lettered.
const subscription = await bus.subscribe({
  consumer: `mailer-${Date.now()}`,
  category: 'mail',
  maxDeliver: 3,
  backoff: { initialDelayMs: 10, maxDelayMs: 50 },
  handler: () => { throw new Error('SMTP server down'); },
});
const consumer = subscription.consumer;
while ((await bus.deadLetters({ consumer })).length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
const [dead] = await bus.deadLetters({ consumer });
assert.equal(dead?.event.id, event?.id);
assert.equal(dead?.deliveries, 3);
assert.match(String(dead?.error), /SMTP server down/);

await subscription.stop();
await bus.close();
await store.close();
console.log('messaging: publish, deduplication and dead letters checked');
