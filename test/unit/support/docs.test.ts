// The documentation the server links to exists and stays in the repository: one findings.md
// section per finding code (diagnostics link to it), the repository URL in one place, and every
// relative link in the docs and READMEs pointing at a file of this repository.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPOSITORY_URL, findingDocUrl } from '../../../server/src/support/project';
import { problemToDiagnostic } from '../../../server/src/lsp/render';

const REPO = path.resolve(__dirname, '../../../..');
const read = (rel: string) => fs.readFileSync(path.join(REPO, rel), 'utf8');

/** The finding codes: the analysis' FindingCode union plus the session's build error. */
function findingCodes(): string[] {
  const union = /export type FindingCode =([^;]+);/.exec(read('server/src/analysis/types.ts'))![1];
  return [...union.matchAll(/'([a-z-]+)'/g)].map((m) => m[1]).concat('patch-build-error');
}

/** GitHub's anchor for a heading: lower case, punctuation other than - and _ dropped, spaces → -. */
function anchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-');
}

function markdownFiles(): string[] {
  const out = ['README.md', 'ARCHITECTURE.md', 'agent-crate/README.md', 'server/README.md'];
  for (const dir of ['docs', 'server/src/analysis', 'server/src/engine', 'editors', 'clients'])
    for (const e of fs.readdirSync(path.join(REPO, dir), { withFileTypes: true, recursive: true }))
      if (e.isFile() && e.name.endsWith('.md') && !e.parentPath.includes('node_modules') && !e.parentPath.includes('target'))
        out.push(path.relative(REPO, path.join(e.parentPath, e.name)));
  return out.filter((f) => fs.existsSync(path.join(REPO, f)));
}

describe('docs in the repository', () => {
  it('uses one repository URL, the one package.json declares', () => {
    for (const manifest of ['package.json', 'server/package.json']) {
      const url = (JSON.parse(read(manifest)) as { repository: { url: string } }).repository.url;
      assert.equal(url.replace(/\.git$/, ''), REPOSITORY_URL, manifest);
    }
    assert.match(read('agent-crate/Cargo.toml'), new RegExp(`^repository = "${REPOSITORY_URL}"$`, 'm'));
  });

  it('has a findings.md section for every finding code, and diagnostics link to it', () => {
    const headings = new Set([...read('docs/findings.md').matchAll(/^## (.+)$/gm)].map((m) => anchor(m[1])));
    const codes = findingCodes();
    assert.ok(codes.length >= 10, `codes: ${codes.join(', ')}`);
    for (const code of codes) {
      assert.ok(headings.has(code), `docs/findings.md has a "## ${code}" section`);
      assert.equal(findingDocUrl(code), `${REPOSITORY_URL}/blob/main/docs/findings.md#${code}`);
    }
    const range = { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } };
    const d = problemToDiagnostic({ file: '/x.rs', range, severity: 'warning', code: 'struct-layout-changed', message: 'm', requiresRestart: true });
    assert.equal(d.codeDescription?.href, findingDocUrl('struct-layout-changed'));
  });

  it('links only to files that exist in the repository (and anchors that exist in them)', () => {
    const problems: string[] = [];
    for (const file of markdownFiles()) {
      const text = read(file).replace(/```[\s\S]*?```/g, '');
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1];
        if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
        const [rel, hash] = target.split('#');
        const resolved = rel ? path.resolve(path.dirname(path.join(REPO, file)), rel) : path.join(REPO, file);
        if (!resolved.startsWith(REPO + path.sep) && resolved !== REPO) problems.push(`${file}: ${target} leaves the repository`);
        else if (!fs.existsSync(resolved)) problems.push(`${file}: ${target} does not exist`);
        else if (hash && resolved.endsWith('.md')) {
          const anchors = [...fs.readFileSync(resolved, 'utf8').matchAll(/^#+ (.+)$/gm)].map((h) => anchor(h[1]));
          if (!anchors.includes(hash)) problems.push(`${file}: ${target} has no such section`);
        }
      }
      if (/shared\/docs|\/work\/|design\.md/.test(text)) problems.push(`${file} refers to a path outside the repository`);
    }
    assert.deepEqual(problems, []);
  });
});
