import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';

// Every event store adapter the package exports must run the shared conformance suite.
// A new `open…EventStore` export that no conformance file calls fails here.
describe('conformance wiring', () => {
  it('runs eventStoreConformance for every exported event store adapter', () => {
    const adapters = Object.keys(api).filter((name) => /^open\w*EventStore$/.test(name));
    expect(adapters.length).toBeGreaterThan(0);
    const dir = import.meta.dirname;
    const wiring = readdirSync(dir)
      .filter((f) => f.endsWith('.test.ts') && f !== 'adapters-wired.test.ts')
      .map((f) => readFileSync(join(dir, f), 'utf8'))
      .filter((src) => src.includes('eventStoreConformance('));
    const unwired = adapters.filter((name) => !wiring.some((src) => src.includes(`${name}(`)));
    expect(unwired, `adapters not wired to test/conformance: ${unwired.join(', ')}`).toEqual([]);
  });
});
