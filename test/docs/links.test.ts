import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DOCS_DIR, pages } from '../../docs/tools/examples.js';
import { REPO_ROOT } from '../support/processes.js';
import { OWN_PAGES } from './pages.js';

/** Relative link targets of a markdown file (no URLs, no pure anchors), without their #anchor. */
function relativeLinks(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((href) => !/^[a-z]+:/i.test(href) && !href.startsWith('#'))
    .map((href) => href.split('#')[0]!);
}

describe('docs: links', () => {
  it('the index links every page of docs/', () => {
    const index = readFileSync(join(DOCS_DIR, 'README.md'), 'utf8');
    const missing = pages().filter((p) => p !== 'README.md' && !index.includes(`](${p})`));
    expect(missing, 'add a row for each page to docs/README.md').toEqual([]);
  });

  it('every relative link of the guides and of the README points at a file that exists', () => {
    const files = [...OWN_PAGES.map((p) => join(DOCS_DIR, p)), join(REPO_ROOT, 'README.md')];
    for (const file of files) {
      const broken = relativeLinks(file).filter((href) => !existsSync(join(dirname(file), href)));
      expect(broken, file).toEqual([]);
    }
  });
});
