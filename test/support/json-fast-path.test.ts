import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { encodeJson } from '../../src/support/json.js';

// encodeJson checks values with a fast pass first and falls back to the path-naming walk: both must agree.
describe('encodeJson fast path and full walk', () => {
  const nest = (depth: number, leaf: unknown): unknown => {
    let v = leaf;
    for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { k: v };
    return v;
  };

  it('accepts values deeper than the fast check goes', () => {
    const deep = nest(200, 'leaf');
    expect(JSON.parse(encodeJson(deep, 'data'))).toEqual(deep);
  });

  it('names the path of a bad value found deep down', () => {
    expect(() => encodeJson(nest(3, 1n), 'data')).toThrow(/\$\.k\[0\]\.k is a bigint/);
    expect(() => encodeJson(nest(150, Number.NaN), 'data')).toThrow(InvalidArgumentError);
  });

  it('refuses cycles, shallow or deep', () => {
    const a: Record<string, unknown> = { x: 1 };
    a.self = a;
    expect(() => encodeJson(a, 'data')).toThrow(/circular/);
    const b: Record<string, unknown> = {};
    const deep = nest(100, b) as Record<string, unknown>;
    b.back = deep;
    expect(() => encodeJson(deep, 'data')).toThrow(/circular/);
  });

  it('refuses the same things on both paths: Maps, symbols keys, undefined items, lone surrogates', () => {
    for (const bad of [new Map(), { [Symbol('s')]: 1 }, [1, undefined], { s: '\uD800' }, { 'a\u0000': 1 }, new Date(Number.NaN)]) {
      expect(() => encodeJson(bad, 'data')).toThrow(InvalidArgumentError);
      expect(() => encodeJson(nest(120, bad), 'data')).toThrow(InvalidArgumentError);
    }
  });
});
