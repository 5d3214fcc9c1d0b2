import { describe, expect, it } from 'vitest';
import { uuidV7 } from '../../src/support/ids.js';

describe('uuidV7', () => {
  it('gives unique, well-formed version-7 ids whose prefix follows the clock', () => {
    const before = Date.now();
    const ids = Array.from({ length: 20_000 }, () => uuidV7());
    const after = Date.now();
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids.slice(0, 600)) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const ms = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    expect(ms(ids[0]!)).toBeGreaterThanOrEqual(before);
    expect(ms(ids[ids.length - 1]!)).toBeLessThanOrEqual(after);
    for (let i = 1; i < ids.length; i++) expect(ms(ids[i]!)).toBeGreaterThanOrEqual(ms(ids[i - 1]!));
  });
});
