import type { Command } from 'commander';
import { storeDatabase } from '../../eventstore/store.js';
import type { EventStore } from '../../eventstore/types.js';
import { note, outputWidth, withStore, writeLine } from '../context.js';
import { EventTable, eventToJson, jsonLine } from '../format.js';
import { parseBigIntArg, parseTypes } from '../parse.js';

/**
 * `tessera tail`: follows the global log live (including appends by other processes) until Ctrl-C or
 * SIGTERM. Starts after the current end of the log, or at `--from` to replay history first.
 *
 * @example
 * ```sh
 * tessera tail                      # new events only
 * tessera tail --from 1 --json      # everything, then live, as JSON lines
 * ```
 */
export function register(program: Command): void {
  program
    .command('tail')
    .description('print events live as they are appended, until Ctrl-C')
    .option('-f, --from <position>', 'start at this global position (default: after the last event)')
    .option('-t, --types <a,b>', 'only events of these types')
    .action(async (opts: { from?: string; types?: string }, cmd: Command) => {
      const from = opts.from === undefined ? undefined : parseBigIntArg(opts.from, '--from');
      const types = opts.types === undefined ? undefined : parseTypes(opts.types);
      await withStore(cmd, 'create', async (store, g) => {
        const start = from ?? (await lastPosition(store)) + 1n;
        const table = EventTable.live(outputWidth());
        if (!g.json) await writeLine(table.header());
        note(`tailing ${g.path} from position ${start} (Ctrl-C to stop)`);
        const subscription = store.subscribeToAll({
          fromPosition: start,
          ...(types ? { types } : {}),
          handler: (e) => writeLine(g.json ? jsonLine(eventToJson(e)) : table.row(e)),
        });
        const stop = () => void subscription.stop();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        try {
          await subscription.done;
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
      });
    });
}

/**
 * The position of the newest event, or 0n for an empty log.
 *
 * @example
 * ```ts
 * const start = (await lastPosition(store)) + 1n;
 * ```
 */
export async function lastPosition(store: EventStore): Promise<bigint> {
  const [row] = await storeDatabase(store).query<{ p: number | bigint | null }>('SELECT max(global_position) AS p FROM tessera_events');
  return row?.p == null ? 0n : BigInt(row.p);
}
