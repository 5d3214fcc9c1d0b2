import { SingleBar } from 'cli-progress';

/**
 * A progress bar on stderr for long CLI work. It draws only on a terminal (cli-progress stays silent when
 * stderr is piped) and never with `--json`, so scripts reading stdout or stderr see no bar noise.
 *
 * @example
 * ```ts
 * const bar = stepBar('migrate', 4, json);
 * bar.update(1, 'eventstore');
 * bar.stop();
 * ```
 */
export interface StepBar {
  update(done: number, label: string): void;
  stop(): void;
}

/**
 * Starts a bar of `total` steps labelled `title`; a no-op bar with `json`.
 *
 * @example
 * ```ts
 * const bar = stepBar('migrate', 4, false);
 * ```
 */
export function stepBar(title: string, total: number, json: boolean): StepBar {
  if (json) return { update: () => undefined, stop: () => undefined };
  const bar = new SingleBar({ format: ` ${title} [{bar}] {value}/{total} | {label}`, stream: process.stderr, hideCursor: true, clearOnComplete: true });
  bar.start(total, 0, { label: '' });
  return { update: (done, label) => bar.update(done, { label }), stop: () => bar.stop() };
}
