import type { Command } from 'commander';
import { InvalidArgumentError } from '../../errors.js';
import type { NewEvent } from '../../eventstore/types.js';
import { uuidV7 } from '../../support/ids.js';
import { withStore, writeLine } from '../context.js';
import { jsonLine } from '../format.js';
import { parseExpectedVersion, parseJson, parseJsonObject } from '../parse.js';

/**
 * `tessera append <streamId> <type> [json]`: appends one event. The data comes from the argument, or from
 * stdin when the argument is omitted or `-`. An id is generated (and printed) when `--id` is not given,
 * so a failed call can be retried idempotently with the same id.
 *
 * @example
 * ```sh
 * tessera append cart-1 ItemAdded '{"sku":"A-1","qty":2}' --expected-version no_stream
 * echo '{"amount":10}' | tessera append account-7 Deposited --metadata '{"user":"ann"}'
 * ```
 */
export function register(program: Command): void {
  program
    .command('append')
    .description('append one event to a stream')
    .argument('<streamId>', 'the stream to append to')
    .argument('<type>', 'the event type')
    .argument('[json]', 'event data as JSON; read from stdin when omitted or "-"')
    .option('-e, --expected-version <version>', 'n, any, no_stream or stream_exists', 'any')
    .option('-m, --metadata <json>', 'event metadata, a JSON object')
    .option('--id <eventId>', 'event id; re-using it makes a retry store nothing twice')
    .action(async (streamId: string, type: string, json: string | undefined, opts: AppendCliOptions, cmd: Command) => {
      const expectedVersion = parseExpectedVersion(opts.expectedVersion);
      const event: NewEvent = { type, data: undefined, id: opts.id ?? uuidV7() };
      if (opts.metadata !== undefined) event.metadata = parseJsonObject(opts.metadata, '--metadata');
      event.data = parseJson(json === undefined || json === '-' ? await readStdin() : json, 'data');
      await withStore(cmd, 'create', async (store, g) => {
        const result = await store.appendToStream(streamId, [event], { expectedVersion });
        if (g.json) {
          await writeLine(jsonLine({ streamId, type, id: event.id, ...result }));
        } else {
          await writeLine(
            `appended ${type} to ${streamId}: version ${result.nextExpectedVersion}, position ${result.lastGlobalPosition}, id ${event.id}`,
          );
        }
      });
    });
}

interface AppendCliOptions {
  expectedVersion: string;
  metadata?: string;
  id?: string;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    throw new InvalidArgumentError('data', 'is missing', `Pass the event data as JSON after the type, e.g. '{"qty":1}', or pipe it on stdin.`);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text.length === 0) {
    throw new InvalidArgumentError('data', 'stdin was empty', `Pass the event data as JSON after the type, e.g. '{"qty":1}', or pipe it on stdin.`);
  }
  return text;
}
