import fc from 'fast-check';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventStore, InvalidArgumentError, openSqliteEventStore } from '../../src/index.js';
import { encodeJson } from '../../src/support/json.js';
import { tempDir } from '../support/tmp.js';

/** JSON.parse keeps -0 but JSON.stringify writes it as 0 (PostgreSQL jsonb too): compare without it. */
const noMinusZero = (v: fc.JsonValue): fc.JsonValue => JSON.parse(JSON.stringify(v)) as fc.JsonValue;
const hasNul = (v: unknown): boolean => JSON.stringify(v).includes('\\u0000');

/** Any JSON value with well-formed Unicode (astral characters included) and no U+0000. */
const jsonArb = fc
  .jsonValue({ stringUnit: 'grapheme', maxDepth: 5 })
  .map(noMinusZero)
  .filter((v) => !hasNul(v));

type Poison = { name: string; value: unknown };
const poisonArb: fc.Arbitrary<Poison> = fc.constantFrom<Poison>(
  { name: 'BigInt', value: 10n },
  { name: 'function', value: () => 1 },
  { name: 'symbol', value: Symbol('s') },
  { name: 'NaN', value: Number.NaN },
  { name: 'Infinity', value: Number.POSITIVE_INFINITY },
  { name: '-Infinity', value: Number.NEGATIVE_INFINITY },
  { name: 'U+0000 in a string', value: 'before\u0000after' },
  { name: 'U+0000 in a key', value: { 'k\u0000': 1 } },
  { name: 'undefined in an array', value: [1, undefined] },
  { name: 'invalid Date', value: new Date(Number.NaN) },
  { name: 'Map', value: new Map([['a', 1]]) },
  { name: 'Set', value: new Set([1]) },
  { name: 'Uint8Array', value: new Uint8Array([1, 2]) },
  { name: 'class instance', value: new (class Point { x = 1; })() },
  { name: 'symbol key', value: { [Symbol('k')]: 1 } },
  { name: 'lone high surrogate', value: 'a\ud800' },
  { name: 'lone low surrogate in a key', value: { ['\udc00k']: 1 } },
);

/** Any sequence of UTF-16 code units, lone surrogates and U+0000 included. */
const utf16Arb = fc.string({
  unit: fc.oneof(
    fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    fc.constantFrom('\u0000', '\ud83d', '\ude00', '\ud83d\ude00', 'a'),
  ),
  maxLength: 8,
});
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Buries `poison` at a random depth inside arrays and objects next to ordinary JSON siblings. */
const poisonedArb = fc
  .tuple(poisonArb, fc.array(fc.tuple(fc.boolean(), fc.jsonValue({ maxDepth: 2 }), fc.string({ maxLength: 5 })), { maxLength: 5 }))
  .map(([poison, wrappers]) => ({
    poison: poison.name,
    value: wrappers.reduce<unknown>(
      (inner, [asArray, sibling, key]) => (asArray ? [sibling, inner] : { sibling, [`k${key}`]: inner }),
      poison.value,
    ),
  }));

describe('encodeJson (event data and metadata validation)', () => {
  it('round-trips every JSON value exactly', () => {
    fc.assert(
      fc.property(jsonArb, (v) => {
        expect(JSON.parse(encodeJson(v, 'data'))).toEqual(v);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses BigInt, functions, symbols, non-finite numbers, U+0000 and holes wherever they hide', () => {
    fc.assert(
      fc.property(poisonedArb, ({ poison, value }) => {
        let thrown: unknown;
        try {
          encodeJson(value, 'data');
        } catch (e) {
          thrown = e;
        }
        expect(thrown, poison).toBeInstanceOf(InvalidArgumentError);
        expect((thrown as InvalidArgumentError).argument).toBe('data');
      }),
      { numRuns: 500 },
    );
  });

  it('accepts a string (as value or key) exactly when it has no U+0000 and no lone surrogate, and then keeps it', () => {
    fc.assert(
      fc.property(utf16Arb, fc.boolean(), (str, asKey) => {
        const value = asKey ? { [str]: 1 } : [str];
        const acceptable = !str.includes('\u0000') && !LONE_SURROGATE.test(str);
        if (acceptable) expect(JSON.parse(encodeJson(value, 'data'))).toEqual(value);
        else expect(() => encodeJson(value, 'data')).toThrow(InvalidArgumentError);
      }),
      { numRuns: 1_000 },
    );
  });

  it('refuses circular references', () => {
    const a: Record<string, unknown> = { x: 1 };
    a.self = { back: a };
    expect(() => encodeJson(a, 'data')).toThrow(InvalidArgumentError);
  });

  // Values JSON would silently change: refused, so what is read back is what was appended.
  const silentlyChanged: [string, unknown][] = [
    ['a Map (its entries are dropped: "{}")', new Map([['a', 1]])],
    ['a Set (its members are dropped: "{}")', new Set([1, 2])],
    ['a Uint8Array (becomes an object with index keys)', new Uint8Array([1, 2])],
    ['a symbol-keyed property (dropped)', { [Symbol('k')]: 1, a: 1 }],
    ['a lone surrogate (PostgreSQL jsonb refuses "\\ud800", so adapters differ)', { s: 'x\ud800y' }],
  ];
  for (const [what, value] of silentlyChanged) {
    it(`refuses ${what}`, () => {
      expect(() => encodeJson(value, 'data')).toThrow(InvalidArgumentError);
    });
  }
});

describe('event data through the SQLite store', () => {
  const tmp = tempDir('tessera-json-');
  let store: EventStore;
  beforeAll(async () => {
    store = await openSqliteEventStore({ path: join(tmp.dir, 'events.db') });
  });
  afterAll(async () => {
    await store.close();
    tmp.remove();
  });

  it('stores and reads back any JSON data and metadata exactly', async () => {
    let n = 0;
    const metadataArb = fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 6 }), jsonArb, { maxKeys: 4 }).filter((m) => !hasNul(m));
    await fc.assert(
      fc.asyncProperty(jsonArb, metadataArb, async (data, metadata) => {
        const stream = `json-${n++}`;
        await store.appendToStream(stream, [{ type: 'Any', data, metadata }], { expectedVersion: 'no_stream' });
        const [e] = await store.readStream(stream);
        expect(e!.data).toEqual(data);
        expect(e!.metadata).toEqual(metadata);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses poisoned data with InvalidArgumentError and stores nothing', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(poisonedArb, async ({ value }) => {
        const stream = `poison-${n++}`;
        const events = [{ type: 'Fine', data: 1 }, { type: 'Bad', data: value }];
        await expect(store.appendToStream(stream, events)).rejects.toBeInstanceOf(InvalidArgumentError);
        await expect(store.appendToStream('poison-meta', [{ type: 'Bad', data: 1, metadata: { value } }])).rejects.toBeInstanceOf(InvalidArgumentError);
        expect(await store.streamExists(stream)).toBe(false);
      }),
      { numRuns: 100 },
    );
    expect(await store.streamExists('poison-meta')).toBe(false);
  });
});
