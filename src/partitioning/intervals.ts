import { InvalidArgumentError } from '../errors.js';

/**
 * Time intervals of table partitions and segment files, in UTC so that every process and server names
 * and bounds them alike whatever its time zone.
 * @module
 */

/**
 * The length of one time partition or segment.
 * @example
 * ```ts
 * const interval: TimeInterval = 'day';
 * ```
 */
export type TimeInterval = 'hour' | 'day' | 'week' | 'month';

const INTERVALS: readonly TimeInterval[] = ['hour', 'day', 'week', 'month'];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Checks an interval name.
 * @example
 * ```ts
 * requireInterval('day', 'interval'); // 'day'
 * ```
 */
export function requireInterval(value: unknown, argument: string): TimeInterval {
  if (!INTERVALS.includes(value as TimeInterval)) {
    throw new InvalidArgumentError(argument, `${JSON.stringify(value)} is not one of ${INTERVALS.join(', ')}`, `Pass ${argument}: 'day' (or hour, week, month).`);
  }
  return value as TimeInterval;
}

/**
 * The start (ms, UTC) of the interval holding `ms`; weeks start on Monday (ISO 8601).
 * @example
 * ```ts
 * intervalStart(Date.UTC(2026, 10, 25, 13), 'day') === Date.UTC(2026, 10, 25); // true
 * ```
 */
export function intervalStart(ms: number, interval: TimeInterval): number {
  const d = new Date(ms);
  switch (interval) {
    case 'hour':
      return Math.floor(ms / HOUR) * HOUR;
    case 'day':
      return Math.floor(ms / DAY) * DAY;
    case 'week': {
      const day = Math.floor(ms / DAY) * DAY;
      return day - ((d.getUTCDay() + 6) % 7) * DAY;
    }
    case 'month':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  }
}

/**
 * The start of the interval `n` intervals after the one starting at `start` (n may be negative).
 * @example
 * ```ts
 * addIntervals(Date.UTC(2026, 0, 31), 'month', 1) === Date.UTC(2026, 1, 1); // months from their start
 * ```
 */
export function addIntervals(start: number, interval: TimeInterval, n: number): number {
  switch (interval) {
    case 'hour':
      return start + n * HOUR;
    case 'day':
      return start + n * DAY;
    case 'week':
      return start + n * 7 * DAY;
    case 'month': {
      const d = new Date(intervalStart(start, 'month'));
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1);
    }
  }
}

/**
 * The name suffix of the interval starting at `start`: `yyyymmddhh` (hour), `yyyymmdd` (day, week) or `yyyymm` (month).
 * @example
 * ```ts
 * intervalSuffix(Date.UTC(2026, 10, 25), 'day'); // '20261125'
 * ```
 */
export function intervalSuffix(start: number, interval: TimeInterval): string {
  const iso = new Date(start).toISOString(); // 2026-11-25T13:00:00.000Z
  const ymd = iso.slice(0, 10).replaceAll('-', '');
  if (interval === 'hour') return `${ymd}${iso.slice(11, 13)}`;
  return interval === 'month' ? ymd.slice(0, 6) : ymd;
}

/**
 * Parses a duration such as `90d`, `12h`, `2w`, `30m` or `500ms` into milliseconds (for the CLI).
 * @example
 * ```ts
 * parseDuration('30d'); // 2_592_000_000
 * ```
 */
export function parseDuration(text: string, argument = 'duration'): number {
  const m = /^(\d+)(ms|s|m|h|d|w)$/.exec(text.trim());
  if (m === null) throw new InvalidArgumentError(argument, `${JSON.stringify(text)} is not a duration`, 'Write it as a number and a unit: 500ms, 30s, 15m, 12h, 90d or 2w.');
  const unit = { ms: 1, s: 1_000, m: 60_000, h: HOUR, d: DAY, w: 7 * DAY }[m[2] as 'ms'];
  return Number(m[1]) * unit;
}
