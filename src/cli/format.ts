import type { RecordedEvent } from '../eventstore/types.js';

/**
 * Text and JSON renderings shared by the CLI commands (and the `npm start` walk-through): aligned tables,
 * one-line JSON with bigints as strings, byte sizes.
 *
 * @example
 * ```ts
 * console.log(table(['stream', 'events'], [['cart-1', '3']], ['left', 'right']));
 * console.log(jsonLine({ position: 12n })); // {"position":"12"}
 * ```
 * @module
 */

export type Align = 'left' | 'right';

/**
 * JSON on one line; bigints become strings so no precision is lost in any JSON reader.
 *
 * @example
 * ```ts
 * jsonLine({ position: 12n }); // '{"position":"12"}'
 * ```
 */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/**
 * The JSON shape of an event in `--json` output.
 *
 * @example
 * ```ts
 * await writeLine(jsonLine(eventToJson(event)));
 * ```
 */
export function eventToJson(e: RecordedEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {
    globalPosition: e.globalPosition.toString(),
    streamId: e.streamId,
    streamVersion: e.streamVersion.toString(),
    type: e.type,
    id: e.id,
    recordedAt: e.recordedAt.toISOString(),
    schemaVersion: e.schemaVersion,
    data: e.data,
  };
  if (e.metadata !== undefined) out.metadata = e.metadata;
  return out;
}

/**
 * Shortens `s` to `width` characters, marking the cut with an ellipsis.
 *
 * @example
 * ```ts
 * truncate('abcdef', 4); // 'abc…'
 * ```
 */
export function truncate(s: string, width: number): string {
  if (s.length <= width) return s;
  return width <= 1 ? s.slice(0, width) : `${s.slice(0, width - 1)}…`;
}

/**
 * Pads (or truncates) one cell to exactly `width` characters.
 *
 * @example
 * ```ts
 * cell('42', 5, 'right'); // '   42'
 * ```
 */
export function cell(s: string, width: number, align: Align = 'left'): string {
  const t = truncate(s, width);
  return align === 'right' ? t.padStart(width) : t.padEnd(width);
}

/**
 * An aligned table with a header row and a rule under it; column widths fit the content.
 *
 * @example
 * ```ts
 * console.log(table(['stream', 'events'], [['cart-1', '3']], ['left', 'right']));
 * ```
 */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => cell(c, widths[i] ?? c.length, align[i] ?? 'left')).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/**
 * `key   value` lines with the values aligned.
 *
 * @example
 * ```ts
 * console.log(keyValues([['events', '3'], ['last position', '17']]));
 * ```
 */
export function keyValues(pairs: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

const EVENT_HEADERS = ['position', 'stream', 'version', 'type', 'time', 'data'] as const;
const EVENT_ALIGN: readonly Align[] = ['right', 'left', 'right', 'left', 'left', 'left'];
// Caps keep one long stream id or type from pushing the data column off the screen.
const CAPS = [20, 32, 10, 28, 24] as const;

/**
 * Renders events as table rows with fixed column widths, so a long read can print page by page and a
 * live `tail` can print event by event and still line up.
 *
 * @example
 * ```ts
 * const t = EventTable.fit(page, 120);
 * console.log(t.header());
 * for (const e of page) console.log(t.row(e));
 * ```
 */
export class EventTable {
  private constructor(
    private readonly widths: readonly number[],
    private readonly dataWidth: number,
  ) {}

  /** Widths that fit `sample` (the first page), within caps; `totalWidth` bounds the data column. */
  static fit(sample: readonly RecordedEvent[], totalWidth: number): EventTable {
    const cells = sample.map(eventCells);
    const widths = CAPS.map((cap, i) => Math.min(cap, Math.max(EVENT_HEADERS[i]!.length, ...cells.map((c) => c[i]!.length))));
    const used = widths.reduce((a, b) => a + b + 2, 0);
    return new EventTable(widths, Math.max(20, totalWidth - used));
  }

  /** Fixed widths for a live feed, which cannot measure rows it has not seen yet. */
  static live(totalWidth: number): EventTable {
    const widths = [8, 24, 7, 20, 24];
    return new EventTable(widths, Math.max(20, totalWidth - widths.reduce((a, b) => a + b + 2, 0)));
  }

  header(): string {
    const rule = EVENT_HEADERS.map((h, i) => '-'.repeat(this.widths[i] ?? h.length));
    return `${this.#line([...EVENT_HEADERS])}\n${this.#line(rule)}`;
  }

  row(e: RecordedEvent): string {
    return this.#line(eventCells(e));
  }

  #line(cells: readonly string[]): string {
    return cells
      .map((c, i) => cell(c, this.widths[i] ?? this.dataWidth, EVENT_ALIGN[i] ?? 'left'))
      .join('  ')
      .trimEnd();
  }
}

function eventCells(e: RecordedEvent): string[] {
  return [
    e.globalPosition.toString(),
    e.streamId,
    e.streamVersion.toString(),
    e.type,
    e.recordedAt.toISOString(),
    JSON.stringify(e.data) ?? 'null',
  ];
}

/**
 * `1536` → `1.5 KiB`.
 *
 * @example
 * ```ts
 * formatBytes(1536); // '1.5 KiB'
 * ```
 */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}
