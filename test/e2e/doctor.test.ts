// `subsecond-lsp doctor`: the real binary against real cargo, on a good app (a copy of
// clients/counter), on an app without the agent, and on a machine without a C toolchain or
// linker (simulated with a PATH that holds only cargo and rustc). Also behind `subsecond.doctor`.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SERVER_BIN, TestLspClient } from '../support/lsp-client';
import { prepareClientFixture } from '../support/counter-fixture';
import { removeDir, tempProject } from '../support/fixtures';

interface Line {
  mark: string;
  detail: string;
  fix?: string;
}

function doctor(args: string[], env: NodeJS.ProcessEnv = process.env): { code: number | null; out: string; checks: Map<string, Line> } {
  const r = spawnSync(process.execPath, [SERVER_BIN, 'doctor', ...args], { encoding: 'utf8', env, timeout: 300_000 });
  const checks = new Map<string, Line>();
  let last: Line | undefined;
  for (const l of r.stdout.split('\n')) {
    const m = /^([✓!✗-]) (.+?)\s{2,}(.*)$/.exec(l);
    if (m) checks.set(m[2].trim(), (last = { mark: m[1], detail: m[3] }));
    else if (last && /^\s+fix: /.test(l)) last.fix = l.trim().slice(5);
  }
  return { code: r.status, out: r.stdout + r.stderr, checks };
}

function which(name: string): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, name);
    if (dir && fs.existsSync(p)) return p;
  }
  throw new Error(`${name} is not on PATH`);
}

const ALL = ['platform', 'Rust toolchain', 'C toolchain', 'patch linker', 'cargo workspace', 'target', 'target linker', 'runner', 'agent dependency', 'connect() called', 'debug assertions', 'debug info for the layout gate', 'hot entry', 'hot closures'];

describe('subsecond-lsp doctor', function () {
  this.timeout(10 * 60_000);

  it('passes every check on a good app (clients/counter)', () => {
    const fx = prepareClientFixture('counter', 'subsecond-lsp-doctor');
    const r = doctor(['--manifest-path', path.join(fx.clientDir, 'Cargo.toml')]);
    assert.equal(r.code, 0, r.out);
    for (const title of ALL) assert.equal(r.checks.get(title)?.mark, '✓', `${title} passes:\n${r.out}`);
    assert.match(r.checks.get('patch linker')!.detail, /^(rust-lld|lld|mold|gnu-ld) through \S+ \(linked a test patch/);
    assert.match(r.checks.get('agent dependency')!.detail, /subsecond-agent \(direct dependency\)/);
    assert.match(r.checks.get('hot entry')!.detail, /`tick`/);
    assert.match(r.checks.get('Rust toolchain')!.detail, /^rustc \d+\.\d+\.\d+\S* \(.*\) \[(stable|beta|nightly) channel, commit date \d{4}-\d{2}-\d{2}/);
    // no fat build in this copy yet (test/e2e/counter-v0.test.ts reads one)
    assert.deepEqual(r.checks.get('symbol names'), { mark: '-', detail: 'no fat build yet (the first start builds one); legacy and v0 names are both read' });
    assert.match(r.out, /ready to hot-patch/);
  });

  it('on an app without the agent: says so with the fix, and debug assertions turned off and a one-capture closure', () => {
    const dir = tempProject({
      'Cargo.toml': `[package]\nname = "bare"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n\n[profile.dev]\ndebug-assertions = false\ndebug = "limited"\n`,
      'src/main.rs': `struct State { n: u64 }\nfn tick(s: &mut State) { s.n += 1; }\nfn main() {\n    let mut state = State { n: 0 };\n    loop { subsecond::call(|| tick(&mut state)); }\n}\n`,
    });
    try {
      const r = doctor(['--manifest-path', path.join(dir, 'Cargo.toml')]);
      assert.equal(r.code, 1, r.out);
      const dep = r.checks.get('agent dependency')!;
      assert.equal(dep.mark, '✗', r.out);
      assert.match(dep.detail, /neither subsecond-agent nor dioxus-devtools is a dependency of `bare`/);
      assert.match(dep.fix!, /cargo add subsecond subsecond-agent/);
      assert.equal(r.checks.get('connect() called')!.mark, '-');
      const da = r.checks.get('debug assertions')!;
      assert.equal(da.mark, '✗');
      assert.match(da.detail, /off in profile `dev` \(\[profile\.dev\] in .*Cargo\.toml\)/);
      // limited debuginfo: patches apply on the source verdict alone, their layouts unverified
      const di = r.checks.get('debug info for the layout gate')!;
      assert.equal(di.mark, '!', r.out);
      assert.match(di.detail, /`debug = limited` in profile `dev`.*cannot be verified/);
      assert.match(di.fix!, /debug = "full"/);
      const closures = r.checks.get('hot closures')!;
      assert.equal(closures.mark, '✗');
      assert.match(closures.detail, /src\/main\.rs:5:28 in `main`/);
      assert.equal(r.checks.get('hot entry')!.mark, '✓');
      assert.match(r.out, /problems to fix before hot-patching works/);
    } finally {
      removeDir(dir);
    }
  });

  it('on a Dioxus desktop app: ready (components are its hot entries); a wasm target is refused, pointing to dx serve', () => {
    const fx = prepareClientFixture('dioxus-desktop', 'subsecond-lsp-doctor-dioxus');
    const manifest = path.join(fx.clientDir, 'Cargo.toml');
    const r = doctor(['--manifest-path', manifest]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.checks.get('agent dependency')!.detail, /dioxus-devtools, through `dioxus`/);
    assert.equal(r.checks.get('hot entry')?.mark, '✓', r.out);
    assert.match(r.checks.get('hot entry')!.detail, /Dioxus renders every component through `subsecond::HotFn`/);
    assert.equal(r.checks.get('native target'), undefined, 'no web-target check on a native build');
    assert.equal(r.checks.get('Dioxus version')?.mark, '✓', r.out);
    assert.match(r.checks.get('Dioxus version')!.detail, /Dioxus 0\.7\.10: supported \(the 0\.7 series; tested with Dioxus 0\.7\.10 and 0\.8\.0-alpha\.3\)/);
    const web = doctor(['--manifest-path', manifest, '--', '--target', 'wasm32-unknown-unknown']);
    assert.equal(web.code, 1, web.out);
    const check = web.checks.get('native target')!;
    assert.equal(check.mark, '✗', web.out);
    assert.match(check.detail, /wasm32-unknown-unknown \(a web build\): subsecond-lsp hot-patches native processes only/);
    assert.match(check.fix!, /dx serve/);
  });

  it('without a C toolchain or linker on PATH: both checks fail with a fix, the rest still runs', () => {
    const fx = prepareClientFixture('counter', 'subsecond-lsp-doctor');
    const bin = tempProject({});
    try {
      for (const tool of ['cargo', 'rustc']) fs.symlinkSync(which(tool), path.join(bin, tool));
      const r = doctor(['--manifest-path', path.join(fx.clientDir, 'Cargo.toml')], { ...process.env, PATH: bin });
      assert.equal(r.code, 1, r.out);
      assert.equal(r.checks.get('Rust toolchain')!.mark, '✓', r.out);
      assert.equal(r.checks.get('C toolchain')!.mark, '✗');
      assert.match(r.checks.get('C toolchain')!.fix!, /build-essential/);
      assert.equal(r.checks.get('patch linker')!.mark, '✗');
      assert.match(r.checks.get('patch linker')!.fix!, /rust-lld|lld/);
      assert.equal(r.checks.get('agent dependency')!.mark, '✓');
    } finally {
      removeDir(bin);
    }
  });

  it('answers the same checks through the subsecond.doctor command', async () => {
    const fx = prepareClientFixture('counter', 'subsecond-lsp-doctor');
    const client = new TestLspClient({ rootDir: fx.clientDir });
    try {
      await client.initialize();
      const res = await client.executeCommand<{ ok: boolean; message: string; checks: Array<{ id: string; status: string }> }>('subsecond.doctor');
      assert.equal(res.ok, true, res.message);
      assert.deepEqual(
        res.checks.map((c) => c.id),
        ['platform', 'rust-toolchain', 'c-toolchain', 'patch-linker', 'workspace', 'target', 'target-linker', 'runner', 'agent-dependency', 'agent-connect', 'debug-assertions', 'debug-info', 'symbol-names', 'hot-entry', 'hot-closure'],
      );
      assert.ok(res.checks.every((c) => c.status === (c.id === 'symbol-names' ? 'skip' : 'ok')), res.message);
      assert.match(res.message, /✓ patch linker/);
    } finally {
      assert.equal(await client.shutdown(), 0);
    }
  });
});
