import type { Command } from 'commander';
import { note, outputWidth, withStore, writeLine } from '../context.js';
import { EventTable, eventToJson, jsonLine } from '../format.js';
import { readPages, type PageQuery } from '../pages.js';
import { parseBigIntArg, parsePositiveInt, parseTypes } from '../parse.js';

/**
 * `tessera read [streamId]`: prints a stream, or the global log when no stream is named, as an aligned
 * table or (with `--json`) one JSON object per event and line.
 *
 * @example
 * ```sh
 * tessera read cart-1 --backward --max 5
 * tessera read --from 100 --types ItemAdded,ItemRemoved --json
 * ```
 */
export function register(program: Command): void {
  program
    .command('read')
    .description('read a stream, or the global log when no stream id is given')
    .argument('[streamId]', 'the stream to read (omit for the global log)')
    .option('-f, --from <n>', 'start at this stream version, or global position (inclusive)')
    .option('-n, --max <n>', 'print at most n events')
    .option('-b, --backward', 'newest first')
    .option('-t, --types <a,b>', 'only events of these types')
    .action(async (streamId: string | undefined, opts: ReadCliOptions, cmd: Command) => {
      const query: PageQuery = { backward: opts.backward === true };
      if (streamId !== undefined) query.streamId = streamId;
      if (opts.from !== undefined) query.from = parseBigIntArg(opts.from, '--from');
      if (opts.max !== undefined) query.max = parsePositiveInt(opts.max, '--max');
      if (opts.types !== undefined) query.types = parseTypes(opts.types);
      await withStore(cmd, 'existing', async (store, g) => {
        let count = 0;
        let table: EventTable | undefined;
        for await (const page of readPages(store, query)) {
          if (g.json) {
            for (const e of page) await writeLine(jsonLine(eventToJson(e)));
          } else {
            if (table === undefined) {
              table = EventTable.fit(page, outputWidth());
              await writeLine(table.header());
            }
            for (const e of page) await writeLine(table.row(e));
          }
          count += page.length;
        }
        if (!g.json) {
          const where = streamId === undefined ? 'the global log' : `stream ${streamId}`;
          if (count === 0) await writeLine(`no events in ${where}`);
          else note(`${count} event${count === 1 ? '' : 's'} from ${where}`);
        }
      });
    });
}

interface ReadCliOptions {
  from?: string;
  max?: string;
  backward?: boolean;
  types?: string;
}
