import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The event every row writes: small and typical (a cart line). */
export const EVENT_TYPE = 'ItemAdded';
export function eventData(i: number): { sku: string; qty: number; price: number; note: string } {
  return { sku: `SKU-${i % 1000}`, qty: 1 + (i % 5), price: 9.99, note: 'benchmark event payload' };
}

/** A fresh temporary folder for one row's database, removed on close. */
export function tempFile(name: string): { path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
  return { path: join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
