import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { EXIT_OK, EXIT_USER_ERROR, exitCodeFor, formatError } from './report.js';

/**
 * Runs the CLI on `argv` (as in `process.argv`) and returns the exit code instead of exiting, so the
 * process ends only after its output has been flushed.
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(process.argv);
 * ```
 */
export async function runCli(argv: readonly string[]): Promise<number> {
  const json = argv.slice(2).includes('--json');
  const program = buildProgram({ json });
  try {
    await program.parseAsync([...argv]);
    return EXIT_OK;
  } catch (e) {
    // commander already printed its message (help, version, usage errors).
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT_OK : EXIT_USER_ERROR;
    process.stderr.write(formatError(e, json || program.opts<{ json?: boolean }>().json === true));
    return exitCodeFor(e);
  }
}
