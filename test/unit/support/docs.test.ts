// The documentation the server links to exists, ships with it, and every link leads somewhere:
// each href a diagnostic can carry opens a section of docs/findings.md (the copy beside the
// server, a file: URI, or a configured home), no package names an address that does not exist,
// and every relative link in the docs and READMEs points at a file of this repository.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DOCS_URL_ENV, findingDocUrl } from '../../../server/src/support/project';
import { docsDir } from '../../../server/src/support/package-files';
import { problemToDiagnostic } from '../../../server/src/lsp/render';
import { defaultSettings, mergeSettings } from '../../../server/src/session/settings';
import { anchor, openDocHref } from '../../support/doc-links';

const REPO = path.resolve(__dirname, '../../../..');
const read = (rel: string) => fs.readFileSync(path.join(REPO, rel), 'utf8');

function unionMembers(file: string, type: string): string[] {
  const union = new RegExp(`export type ${type} =([^;]+);`).exec(read(file))![1];
  return [...union.matchAll(/'([a-z-]+)'/g)].map((m) => m[1]);
}

/**
 * Every code a diagnostic can carry: the analysis' catalog, the build-input findings and the build
 * error; checked against every `code: '…'` the server's sources set, so a new code cannot slip by.
 */
function findingCodes(): string[] {
  const codes = [
    ...unionMembers('server/src/analysis/types.ts', 'FindingCode'),
    ...unionMembers('server/src/session/build-inputs.ts', 'BuildInputCode'),
    'patch-build-error',
  ];
  const src = path.join(REPO, 'server/src');
  for (const e of fs.readdirSync(src, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !e.name.endsWith('.ts')) continue;
    for (const m of fs.readFileSync(path.join(e.parentPath, e.name), 'utf8').matchAll(/\bcode: '([a-z]+(?:-[a-z]+)+)'/g))
      assert.ok(codes.includes(m[1]), `${e.name} sets code '${m[1]}', which no list of codes has`);
  }
  return codes;
}

function markdownFiles(): string[] {
  const out = ['README.md', 'ARCHITECTURE.md', 'agent-crate/README.md', 'server/README.md'];
  for (const dir of ['docs', 'server/src/analysis', 'server/src/engine', 'editors', 'clients'])
    for (const e of fs.readdirSync(path.join(REPO, dir), { withFileTypes: true, recursive: true }))
      if (e.isFile() && e.name.endsWith('.md') && !e.parentPath.includes('node_modules') && !e.parentPath.includes('target'))
        out.push(path.relative(REPO, path.join(e.parentPath, e.name)));
  return out.filter((f) => fs.existsSync(path.join(REPO, f)));
}

const RANGE = { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } };

describe('docs in the repository', () => {
  it('every href a diagnostic can carry opens its code\'s section of the shipped findings.md', () => {
    const codes = findingCodes();
    assert.ok(codes.length >= 20, `codes: ${codes.join(', ')}`);
    const findings = path.join(REPO, 'docs', 'findings.md');
    assert.equal(docsDir(), path.join(REPO, 'docs'), 'in the repository the docs are its docs/');
    const problems: string[] = [];
    for (const code of codes) {
      const d = problemToDiagnostic({ file: '/x.rs', range: RANGE, severity: 'warning', code, message: 'm', requiresRestart: false });
      const href = d.codeDescription?.href;
      if (!href) {
        problems.push(`${code}: no href`);
        continue;
      }
      try {
        const { file, heading } = openDocHref(href);
        assert.equal(file, findings, href);
        assert.equal(heading, code, href);
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('a configured docs home (setting docsUrl, else SUBSECOND_LSP_DOCS_URL) replaces the shipped copy', () => {
    const p = { file: '/x.rs', range: RANGE, severity: 'warning' as const, code: 'lockfile-changed', message: 'm', requiresRestart: true };
    assert.equal(problemToDiagnostic(p, 'https://docs.example/subsecond').codeDescription?.href, 'https://docs.example/subsecond/findings.md#lockfile-changed');
    const saved = process.env[DOCS_URL_ENV];
    try {
      process.env[DOCS_URL_ENV] = 'https://mirror.example/docs/';
      assert.equal(findingDocUrl('main-changed'), 'https://mirror.example/docs/findings.md#main-changed');
      assert.equal(findingDocUrl('main-changed', 'file:///opt/docs'), 'file:///opt/docs/findings.md#main-changed', 'the setting wins');
      process.env[DOCS_URL_ENV] = 'not a url';
      assert.equal(findingDocUrl('main-changed'), `${pathToFileURL(path.join(REPO, 'docs', 'findings.md'))}#main-changed`, 'a malformed variable is ignored');
    } finally {
      if (saved === undefined) delete process.env[DOCS_URL_ENV];
      else process.env[DOCS_URL_ENV] = saved;
    }
    const problems: string[] = [];
    assert.equal(mergeSettings(defaultSettings, { docsUrl: 'https://docs.example/x/' }, problems).docsUrl, 'https://docs.example/x/');
    assert.equal(mergeSettings(defaultSettings, { docsUrl: 'docs/' }, problems).docsUrl, undefined);
    assert.match(problems.join('\n'), /"docsUrl" must be an absolute/);
  });

  it('names no address the project does not have: no repository, homepage or bugs URL in its packages', () => {
    for (const manifest of ['package.json', 'server/package.json', 'editors/vscode/package.json']) {
      const pkg = JSON.parse(read(manifest)) as Record<string, unknown>;
      for (const k of ['repository', 'homepage', 'bugs']) assert.equal(pkg[k], undefined, `${manifest} has no "${k}"`);
    }
    assert.doesNotMatch(read('agent-crate/Cargo.toml'), /^(repository|homepage) =/m);
    const files = [...markdownFiles(), 'agent-crate/Cargo.toml', 'server/package.json', 'editors/vscode/package.json', 'editors/vscode/extension.js'];
    for (const f of files) assert.doesNotMatch(read(f), /github\.com\/subsecond-lsp/, `${f} names a repository that does not exist`);
  });

  it('the npm package ships the docs: files lists docs/, prepack copies them, postpack removes them', () => {
    const pkg = JSON.parse(read('server/package.json')) as { files: string[] };
    assert.ok(pkg.files.includes('docs/'), `files: ${pkg.files.join(', ')}`);
    assert.match(read('server/scripts/prepack.js'), /cpSync\(path\.join\(pkgDir, '\.\.', 'docs'\), path\.join\(pkgDir, 'docs'\)/);
    assert.match(read('server/scripts/postpack.js'), /rmSync\(path\.join\(pkgDir, 'docs'\)/);
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
