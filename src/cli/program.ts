import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import * as append from './commands/append.js';
import * as bus from './commands/bus.js';
import * as groups from './commands/groups.js';
import * as migrate from './commands/migrate.js';
import * as partitions from './commands/partitions.js';
import * as projections from './commands/projections.js';
import * as read from './commands/read.js';
import * as replicas from './commands/replicas.js';
import * as sagas from './commands/sagas.js';
import * as shards from './commands/shards.js';
import * as stats from './commands/stats.js';
import * as tail from './commands/tail.js';
import { DEFAULT_PG_SCHEMA } from '../eventstore/postgres/schema.js';
import { DEFAULT_DB_PATH } from './context.js';
import { formatUsageError } from './report.js';

/**
 * Builds the `tessera` command. Each command lives in `src/cli/commands/<name>.ts` and exports
 * `register(program)`; adding a command means adding its file and one entry to {@link COMMANDS}.
 *
 * @example
 * ```ts
 * await buildProgram().parseAsync(['node', 'tessera', 'read', 'cart-1', '--json']);
 * ```
 * @module
 */

/**
 * A module that adds one command to the program.
 *
 * @example
 * ```ts
 * export const myCommand: CliCommand = { register: (program) => void program.command('hello').action(() => console.log('hi')) };
 * ```
 */
export interface CliCommand {
  register(program: Command): void;
}

/**
 * Every command of the CLI, in the order `--help` lists them.
 *
 * @example
 * ```ts
 * for (const command of COMMANDS) command.register(program);
 * ```
 */
export const COMMANDS: readonly CliCommand[] = [migrate, append, read, tail, stats, bus, sagas, projections, replicas, groups, partitions, shards];

/**
 * The root program with global options (`--db`, `--json`) and every command registered.
 *
 * @example
 * ```ts
 * await buildProgram().parseAsync(['node', 'tessera', 'read', 'cart-1', '--json']);
 * ```
 */
export function buildProgram(options: { json?: boolean } = {}): Command {
  const program = new Command('tessera')
    .description('Tessera: set up, append, read, follow and inspect an event store (a SQLite file or a PostgreSQL schema) from the command line.')
    .version(packageVersion(), '-V, --version')
    .addOption(new Option('--db <path|url>', 'event store: a SQLite file, or a postgres:// URL').default(DEFAULT_DB_PATH).env('TESSERA_DB'))
    .addOption(new Option('--schema <name>', 'PostgreSQL schema holding the store (with a postgres:// --db)').default(DEFAULT_PG_SCHEMA).env('TESSERA_SCHEMA'))
    .option('--json', 'machine-readable output: one JSON object per line (bigints as strings)')
    .showSuggestionAfterError()
    // Errors become exceptions so main decides the exit code and the shape of the message.
    .exitOverride()
    .configureOutput({ outputError: (message, write) => write(formatUsageError(message, options.json === true)) });
  // Set before the commands are added: commander copies these settings into each subcommand.
  for (const command of COMMANDS) command.register(program);
  program.addHelpText('after', '\nExamples:\n  tessera init\n  tessera migrate --db postgres://postgres@127.0.0.1:5432/app --schema orders\n  tessera append cart-1 ItemAdded \'{"sku":"A-1","qty":2}\' --expected-version no_stream\n  tessera read cart-1\n  tessera read --types ItemAdded --max 20 --json\n  tessera tail\n  tessera stats\n');
  return program;
}

function packageVersion(): string {
  // src/cli and dist/cli are both two levels below the package root.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}
