/**
 * Entry point of the `tessera` command (`bin/tessera.js` loads it from dist/ or, in a checkout, from
 * source through tsx; `npm run tessera -- <args>` runs it directly).
 *
 * @example
 * ```sh
 * npx tessera read cart-1 --json
 * ```
 * @module
 */
import { runCli } from './run.js';

// `tessera read | head` closes the pipe early: that is a normal way to stop reading, not a failure.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

process.exitCode = await runCli(process.argv);
