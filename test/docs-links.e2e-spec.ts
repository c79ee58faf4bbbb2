import { ROOT } from '@app/testing';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/**
 * The README and docs/ link to each other, to CONTRIBUTING.md and to the files that implement
 * what they describe: every relative link must name a file or folder that exists, and every
 * anchor a heading of its page, as GitHub makes anchors. A renamed file or heading fails here.
 */
const PAGES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((file) => file.endsWith('.md'))
    .map((file) => `docs/${file}`),
];

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** Markdown without its code: fenced blocks and inline code spans hold no links. */
const withoutCode = (text: string) =>
  text.replace(/^```[\s\S]*?^```$/gm, '').replace(/`[^`\n]*`/g, 'code');

/** GitHub's anchor for a heading: its text, lower-cased, punctuation dropped, spaces as hyphens. */
export function anchorOf(heading: string): string {
  return heading
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/(\*\*|__)/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a page's headings, the second of a name with `-1`, and so on, as GitHub does. */
function anchorsOf(path: string): Set<string> {
  const anchors = new Set<string>();
  const text = read(path).replace(/^```[\s\S]*?^```$/gm, '');
  for (const [, heading] of text.matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const base = anchorOf(heading);
    let anchor = base;
    for (let n = 1; anchors.has(anchor); n++) anchor = `${base}-${n}`;
    anchors.add(anchor);
  }
  return anchors;
}

/** Every link of a page that is neither absolute (a URL) nor mail: its target and anchor. */
function relativeLinks(path: string) {
  return [...withoutCode(read(path)).matchAll(/\]\(([^)\s]+)\)/g)]
    .map(([, target]) => target)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target))
    .map((target) => {
      const [file, anchor] = target.split('#');
      return {
        link: target,
        file:
          file === '' ? path : relative(ROOT, join(ROOT, dirname(path), file)),
        anchor,
      };
    });
}

describe('the links of the README and docs/', () => {
  it.each(PAGES)('%s: every relative link and anchor resolves', (page) => {
    const links = relativeLinks(page);
    const broken = links
      .filter(({ file, anchor }) =>
        !existsSync(join(ROOT, file))
          ? true
          : anchor !== undefined &&
            (!file.endsWith('.md') || !anchorsOf(file).has(anchor)),
      )
      .map(({ link }) => link);
    expect(broken).toEqual([]);
  });

  it('find links at all, and the headings GitHub would anchor', () => {
    expect(relativeLinks('README.md').length).toBeGreaterThan(5);
    expect(anchorOf("The seed's calls")).toBe('the-seeds-calls');
    expect(anchorOf('Safe retries: `Idempotency-Key`')).toBe(
      'safe-retries-idempotency-key',
    );
    expect(anchorOf('Copies of users on `GET /orders/:id`')).toBe(
      'copies-of-users-on-get-ordersid',
    );
    expect(anchorOf('Endpoints (every service)')).toBe(
      'endpoints-every-service',
    );
  });
});
