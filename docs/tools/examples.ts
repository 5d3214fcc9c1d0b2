/**
 * Keeps the code blocks of the docs equal to the runnable files in docs/examples. A page embeds an example
 * with a marker line followed by a `ts` code block:
 *
 *     <!-- example: examples/order-count.ts -->
 *     ```ts
 *     …the file's exact content…
 *     ```
 *
 * test/docs/examples.test.ts fails when a block differs from its file; `--write` copies the files into the
 * blocks after an example changed:
 *
 * ```sh
 * npx tsx docs/tools/examples.ts --write
 * ```
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DOCS_DIR = fileURLToPath(new URL('../', import.meta.url));
export const EXAMPLES_DIR = join(DOCS_DIR, 'examples');

const EMBED = /<!-- example: (\S+) -->\n```ts\n([\s\S]*?)```\n/g;

/** One embedded example in a page. */
export interface Embed {
  page: string;
  file: string;
  block: string;
}

/** The markdown pages of docs/ (not the examples). */
export function pages(): string[] {
  return readdirSync(DOCS_DIR).filter((f) => f.endsWith('.md')).sort();
}

/** The runnable examples, as paths relative to docs/. */
export function exampleFiles(): string[] {
  return readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.ts')).sort().map((f) => `examples/${f}`);
}

/** Every embed of a page, with the code block as it is in the page. */
export function embedsOf(page: string): Embed[] {
  const text = readFileSync(join(DOCS_DIR, page), 'utf8');
  return [...text.matchAll(EMBED)].map((m) => ({ page, file: m[1]!, block: m[2]! }));
}

/** Rewrites each embedded block of every page with its file's content; returns the pages changed. */
export function syncPages(): string[] {
  const changed: string[] = [];
  for (const page of pages()) {
    const path = join(DOCS_DIR, page);
    const before = readFileSync(path, 'utf8');
    const after = before.replace(EMBED, (whole, file: string) => {
      const source = join(DOCS_DIR, file);
      return existsSync(source) ? `<!-- example: ${file} -->\n\`\`\`ts\n${readFileSync(source, 'utf8')}\`\`\`\n` : whole;
    });
    if (after !== before) {
      writeFileSync(path, after);
      changed.push(page);
    }
  }
  return changed;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1] && process.argv.includes('--write')) {
  const changed = syncPages();
  console.log(changed.length === 0 ? 'every embedded example is up to date' : `updated ${changed.join(', ')}`);
}
