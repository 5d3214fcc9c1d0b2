import { AckPolicy, DeliverPolicy, type JetStreamClient, type JetStreamManager, nanos } from 'nats';
import { decodePayload, HEADERS } from '../envelope.js';
import { validateName } from '../subjects.js';
import { DEAD_LETTER_TOKEN } from '../subjects.js';
import type { DeadLetter } from '../types.js';

/**
 * Reads dead letters (oldest first) through a short-lived ephemeral consumer filtered on
 * `<prefix>.dlq.<consumer|*>`; they stay in the stream, so reading them never removes them.
 */
export async function readDeadLetters(
  js: JetStreamClient,
  jsm: JetStreamManager,
  stream: string,
  prefix: string,
  consumer: string | undefined,
  limit: number,
): Promise<DeadLetter[]> {
  const filter = `${prefix}.${DEAD_LETTER_TOKEN}.${consumer === undefined ? '*' : validateName(consumer, 'consumer')}`;
  const info = await jsm.consumers.add(stream, {
    ack_policy: AckPolicy.None,
    deliver_policy: DeliverPolicy.All,
    filter_subject: filter,
    inactive_threshold: nanos(30_000),
    mem_storage: true,
  });
  const out: DeadLetter[] = [];
  try {
    const reader = await js.consumers.get(stream, info.name);
    let pending = Math.min(info.num_pending, limit);
    while (pending > 0) {
      const batch = await reader.fetch({ max_messages: Math.min(pending, 256), expires: 2_000 });
      let got = 0;
      for await (const m of batch) {
        got++;
        const h = m.headers;
        let event;
        try {
          event = decodePayload(m.data);
        } catch {
          continue; // a foreign payload: listed by `nats stream view`, not here
        }
        out.push({
          consumer: h?.get(HEADERS.deadLetterConsumer) ?? m.subject.slice(filter.length - 1),
          event,
          subject: h?.get('Tessera-Original-Subject') ?? '',
          sequence: Number(h?.get(HEADERS.deadLetterSequence) ?? 0),
          deliveries: Number(h?.get(HEADERS.deadLetterDeliveries) ?? 0),
          error: h?.has(HEADERS.deadLetterError) ? decodeURIComponent(h.get(HEADERS.deadLetterError)) : undefined,
          deadLetteredAt: new Date(Math.floor(m.info.timestampNanos / 1_000_000)),
        });
      }
      if (got === 0) break;
      pending -= got;
    }
  } finally {
    await jsm.consumers.delete(stream, info.name).catch(() => undefined);
  }
  return out;
}
