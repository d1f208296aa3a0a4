// The server over stdio, as an editor sees it: a saved layout change warns, a revert clears it,
// and bad input never takes the server down.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestLspClient, Diagnostic } from '../support/lsp-client';
import { tempProject, removeDir, SINGLE_PACKAGE_MANIFEST } from '../support/fixtures';

const MAIN_V1 = `pub struct App {
    pub count: u64,
    pub name: String,
}

fn tick(app: &mut App) {
    app.count += 1;
}

fn main() {
    let mut app = App { count: 0, name: String::new() };
    tick(&mut app);
}
`;
const MAIN_FIELD_ADDED = MAIN_V1.replace('    pub name: String,\n', '    pub name: String,\n    pub extra: bool,\n').replace(
  "name: String::new() }",
  'name: String::new(), extra: false }',
);
const MAIN_BODY_EDIT = MAIN_V1.replace('app.count += 1;', 'app.count += 2;');

const layoutWarnings = (d: Diagnostic[]) => d.filter((x) => x.code === 'struct-layout-changed');

describe('language server over stdio', function () {
  this.timeout(60_000);
  let dir: string;
  let client: TestLspClient;
  let mainRs: string;

  beforeEach(async () => {
    dir = tempProject({ 'Cargo.toml': SINGLE_PACKAGE_MANIFEST, 'src/main.rs': MAIN_V1 });
    mainRs = path.join(dir, 'src', 'main.rs');
    client = new TestLspClient({ rootDir: dir });
  });

  afterEach(async () => {
    const code = await client.shutdown();
    assert.equal(code, 0, `server exit code (stderr: ${client.stderr.slice(-500)})`);
    removeDir(dir);
  });

  it('advertises save with text, code actions, code lenses and the subsecond commands', async () => {
    const init = await client.initialize();
    const caps = init.capabilities as {
      textDocumentSync: { save: { includeText: boolean }; openClose: boolean };
      executeCommandProvider: { commands: string[] };
      codeActionProvider: unknown;
      codeLensProvider: unknown;
    };
    assert.equal(caps.textDocumentSync.openClose, true);
    assert.equal(caps.textDocumentSync.save.includeText, true);
    assert.ok(caps.codeActionProvider);
    assert.ok(caps.codeLensProvider);
    for (const c of ['subsecond.startApp', 'subsecond.restartApp', 'subsecond.stopApp', 'subsecond.patch', 'subsecond.doctor'])
      assert.ok(caps.executeCommandProvider.commands.includes(c), `command ${c} advertised`);
  });

  it('a saved struct field addition warns struct-layout-changed, offers a restart, and the revert clears it', async () => {
    await client.initialize();
    await client.open(mainRs, MAIN_V1);
    await client.changeAndSave(mainRs, MAIN_FIELD_ADDED);
    const diags = await client.waitForDiagnostics(mainRs, 'a layout warning', (d) => layoutWarnings(d).length > 0);
    const w = layoutWarnings(diags)[0];
    assert.equal(w.source, 'subsecond');
    assert.equal(w.severity, 2, 'restart-class findings are warnings');
    assert.match(w.message, /extra/);
    assert.match(w.message, /requires restart/);
    assert.equal(w.range.start.line, 0, 'the warning sits on the struct name');
    assert.equal(MAIN_FIELD_ADDED.split('\n')[0].slice(w.range.start.character, w.range.end.character), 'App');

    const actions = await client.request<Array<{ title: string; command?: { command: string } }>>('textDocument/codeAction', {
      textDocument: { uri: client.uri(mainRs) },
      range: w.range,
      context: { diagnostics: [w] },
    });
    assert.equal(actions.length, 1);
    assert.equal(actions[0].title, 'Restart app to apply');
    assert.equal(actions[0].command?.command, 'subsecond.restartApp');

    await client.changeAndSave(mainRs, MAIN_V1);
    await client.waitForDiagnostics(mainRs, 'the warning to clear', (d) => layoutWarnings(d).length === 0);
  });

  it('offers "Restart app to apply" anywhere on the changed item, and puts its lens on the item', async () => {
    await client.initialize();
    await client.open(mainRs, MAIN_V1);
    await client.changeAndSave(mainRs, MAIN_FIELD_ADDED);
    const w = layoutWarnings(await client.waitForDiagnostics(mainRs, 'a layout warning', (d) => layoutWarnings(d).length > 0))[0];
    // The cursor on `pub extra: bool,` (line 3), nowhere near the warning on `App`: Helix and Zed
    // send no diagnostics for that position.
    const at = (line: number, character: number) => ({ start: { line, character }, end: { line, character } });
    const codeActions = (range: ReturnType<typeof at>) =>
      client.request<Array<{ title: string; diagnostics?: Array<{ code: string }> }>>('textDocument/codeAction', {
        textDocument: { uri: client.uri(mainRs) },
        range,
        context: { diagnostics: [] },
      });
    const inside = await codeActions(at(3, 8));
    assert.deepEqual(inside.map((a) => a.title), ['Restart app to apply']);
    assert.equal(inside[0].diagnostics?.[0].code, 'struct-layout-changed', 'the action names the warning it fixes');
    assert.equal((await codeActions(at(4, 0))).length, 1, 'on the closing brace');
    assert.deepEqual(await codeActions(at(5, 0)), [], 'the closing brace ends the item');
    assert.deepEqual(await codeActions(at(7, 4)), [], 'nothing in an unrelated function');

    const lenses = await client.request<Array<{ range: Diagnostic['range']; command: { title: string; command: string } }>>('textDocument/codeLens', {
      textDocument: { uri: client.uri(mainRs) },
    });
    const restart = lenses.filter((l) => /requires restart/.test(l.command.title));
    assert.equal(restart.length, 1, JSON.stringify(lenses));
    assert.deepEqual(restart[0].range, { start: { line: 0, character: 0 }, end: { line: 4, character: 1 } }, 'the lens spans `pub struct App { .. }`');
    assert.equal(w.range.start.line, 0);
    const start = lenses.find((l) => l.command.command === 'subsecond.startApp');
    assert.ok(start, JSON.stringify(lenses));
    const lines = MAIN_FIELD_ADDED.split('\n');
    assert.deepEqual(start.range, { start: { line: 0, character: 0 }, end: { line: lines.length - 1, character: 0 } }, 'file lenses span the file, not 0:0');
  });

  it('a hot closure capturing one pointer warns hot-closure-never-patched, with no restart action', async () => {
    // main loops over a hot closure that captures only `app`
    const trap = MAIN_V1.replace('    tick(&mut app);\n', '    loop {\n        subsecond::call(|| tick(&mut app));\n    }\n');
    assert.notEqual(trap, MAIN_V1);
    await client.initialize();
    await client.open(mainRs, MAIN_V1);
    await client.changeAndSave(mainRs, trap);
    const never = (d: Diagnostic[]) => d.filter((x) => x.code === 'hot-closure-never-patched');
    const diags = await client.waitForDiagnostics(mainRs, 'the closure warning', (d) => never(d).length > 0);
    const w = never(diags)[0];
    assert.equal(w.source, 'subsecond');
    assert.equal(w.severity, 2, 'shown as a warning');
    assert.match(w.message, /captures only `app`/);
    assert.doesNotMatch(w.message, /requires restart/);
    assert.deepEqual(w.range, { start: { line: 12, character: 24 }, end: { line: 12, character: 26 } }, 'on the closure head `||`');

    const actions = await client.request<unknown[]>('textDocument/codeAction', {
      textDocument: { uri: client.uri(mainRs) },
      range: w.range,
      context: { diagnostics: [w] },
    });
    assert.deepEqual(actions, [], 'nothing to restart for: it does not block patches');
    const lenses = await client.request<Array<{ command: { title: string } }>>('textDocument/codeLens', { textDocument: { uri: client.uri(mainRs) } });
    assert.ok(!lenses.some((l) => /requires restart/.test(l.command.title)), JSON.stringify(lenses));
  });

  it('a function body edit is not a finding', async () => {
    await client.initialize();
    await client.open(mainRs, MAIN_V1);
    await client.changeAndSave(mainRs, MAIN_BODY_EDIT);
    // Then a layout change, so we know the body edit was processed before it.
    await client.changeAndSave(mainRs, MAIN_BODY_EDIT.replace('pub count: u64', 'pub count: u32'));
    const d = await client.waitForDiagnostics(mainRs, 'the type change warning', (x) => layoutWarnings(x).length > 0);
    assert.equal(d.length, 1, `only the layout change is reported: ${JSON.stringify(d)}`);
    assert.match(d[0].message, /count/);
  });

  it('sees a change made outside the editor', async () => {
    await client.initialize();
    await client.waitFor('the session to index', () => client.logs.some((l) => /indexed \d+ Rust files/.test(l)));
    await new Promise((r) => setTimeout(r, 500)); // let the watcher settle
    fs.writeFileSync(mainRs, MAIN_FIELD_ADDED);
    await client.waitForDiagnostics(mainRs, 'a warning from the file watcher', (d) => layoutWarnings(d).length > 0);
    fs.writeFileSync(mainRs, MAIN_V1);
    await client.waitForDiagnostics(mainRs, 'the warning to clear', (d) => layoutWarnings(d).length === 0);
  });

  it('shows the start lens while no app runs', async () => {
    await client.initialize();
    await client.open(mainRs, MAIN_V1);
    const got = await client.request<Array<{ command: { title: string; command: string } }>>('textDocument/codeLens', {
      textDocument: { uri: client.uri(mainRs) },
    });
    assert.ok(got.some((l) => l.command.command === 'subsecond.startApp'), JSON.stringify(got));
  });

  it('answers an unknown command with an error and keeps serving', async () => {
    await client.initialize();
    await assert.rejects(client.executeCommand('subsecond.nope'), /unknown command/);
    await client.open(mainRs, MAIN_V1);
    await client.changeAndSave(mainRs, MAIN_FIELD_ADDED);
    await client.waitForDiagnostics(mainRs, 'a warning after the error', (d) => layoutWarnings(d).length > 0);
  });
});

describe('language server with bad input', function () {
  this.timeout(60_000);
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach(removeDir));

  it('a broken Cargo.toml is reported once and analysis still runs per file', async () => {
    const dir = tempProject({ 'Cargo.toml': '[package\nname = ', 'src/main.rs': MAIN_V1 });
    dirs.push(dir);
    const mainRs = path.join(dir, 'src', 'main.rs');
    const client = new TestLspClient({ rootDir: dir });
    await client.initialize();
    await client.open(mainRs, MAIN_V1);
    await client.changeAndSave(mainRs, MAIN_FIELD_ADDED);
    await client.waitForDiagnostics(mainRs, 'a warning without cargo metadata', (d) => layoutWarnings(d).length > 0);
    const warnings = client.messages.filter((m) => /cargo metadata failed/.test(m.message));
    assert.equal(warnings.length, 1, `told once: ${JSON.stringify(client.messages)}`);
    assert.match(warnings[0].message, /patching is unavailable/);
    assert.equal(await client.shutdown(), 0);
  });

  it('no cargo on the machine is reported once and analysis still runs', async () => {
    const dir = tempProject({ 'Cargo.toml': SINGLE_PACKAGE_MANIFEST, 'src/main.rs': MAIN_V1 });
    dirs.push(dir);
    const mainRs = path.join(dir, 'src', 'main.rs');
    const client = new TestLspClient({ rootDir: dir, env: { ...process.env, PATH: '/nonexistent', CARGO: 'cargo' } });
    await client.initialize();
    await client.open(mainRs, MAIN_V1);
    await client.changeAndSave(mainRs, MAIN_FIELD_ADDED);
    await client.waitForDiagnostics(mainRs, 'a warning without cargo', (d) => layoutWarnings(d).length > 0);
    const told = client.messages.filter((m) => /cargo was not found/.test(m.message));
    assert.equal(told.length, 1, JSON.stringify(client.messages));
    const start = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
    assert.equal(start.ok, false);
    assert.match(start.message, /cargo was not found/);
    assert.equal(await client.shutdown(), 0);
  });

  it('survives malformed JSON-RPC, a 5 MB file, non-Rust files, unparseable Rust and files outside the workspace', async () => {
    const dir = tempProject({ 'Cargo.toml': SINGLE_PACKAGE_MANIFEST, 'src/main.rs': MAIN_V1 });
    dirs.push(dir);
    const mainRs = path.join(dir, 'src', 'main.rs');
    const client = new TestLspClient({ rootDir: dir });
    await client.initialize();
    // A frame whose body is not JSON, then one that is JSON but not JSON-RPC.
    client.process.stdin!.write('Content-Length: 9\r\n\r\n{not json');
    client.process.stdin!.write('Content-Length: 2\r\n\r\n[]');
    const big = path.join(dir, 'src', 'big.rs');
    const bigText = 'pub struct Big { pub a: u8 }\n' + '// filler\n'.repeat(520_000);
    fs.writeFileSync(big, bigText);
    await client.open(big, bigText);
    await client.changeAndSave(big, bigText.replace('pub a: u8', 'pub a: u16'));
    const notes = path.join(dir, 'notes.txt');
    fs.writeFileSync(notes, 'struct Foo');
    await client.open(notes, 'struct Foo');
    await client.changeAndSave(notes, 'struct Foo { x: u8 }');
    const outside = path.join(path.dirname(dir), `outside-${path.basename(dir)}.rs`);
    await client.open(outside, 'struct Out { a: u8 }');
    await client.changeAndSave(outside, 'struct Out { a: u8, b: u8 }');
    await client.open(mainRs, MAIN_V1);
    await client.changeAndSave(mainRs, 'pub struct App {\n    pub count: u64,\n    pub name: String,,, {{{\n' + '🦀\u0000'.repeat(100));
    await client.changeAndSave(mainRs, MAIN_FIELD_ADDED);
    await client.waitForDiagnostics(mainRs, 'the server to still judge saves', (d) => layoutWarnings(d).length > 0);
    assert.equal(client.diagnosticsFor(notes).length, 0, 'non-Rust files get no diagnostics');
    assert.equal(client.diagnosticsFor(outside).length, 0, 'files outside the workspace get no diagnostics');
    assert.equal(client.diagnosticsFor(big).filter((d) => d.code === 'struct-layout-changed').length, 0, 'the 5 MB file is skipped');
    assert.ok(client.messages.some((m) => /too large/.test(m.message)), 'the user is told the big file is skipped');
    assert.equal(await client.shutdown(), 0);
  });
});
