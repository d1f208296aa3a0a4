// Where the app lives: a ratatui app (clients/tui-demo, `ratatui::init()`) gets a real terminal
// in terminal mode (under a pseudo-terminal) and, in LSP mode, in the terminal the editor opens
// for `subsecond/runInTerminal`; it draws, a title edit shows up on the screen, and quitting
// gives the terminal back intact. Without a terminal it dies at once, and the message names the
// setting that fixes it. The app's output is in a log file and in `subsecond/appOutput`.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SERVER_BIN, TestLspClient } from '../support/lsp-client';
import { prepareClientFixture, prepareCounterFixture } from '../support/counter-fixture';
import { isAlive, pollUntil } from '../support/processes';
import { PtySession } from '../support/pty';

// ratatui skips blank cells with cursor moves, so text without escapes loses its spaces.
// Every position differs between the two titles, so ratatui (which redraws only changed cells)
// writes the new one as a single run that can be found in the raw output.
const OLD_TITLE = '"tui-one"';
const NEW_TITLE = 'HOTPATCHED';
const TMP_NAME = 'subsecond-lsp-e2e-tui'; // shared by the tests: one cold build of ratatui

function prepareTui() {
  const fx = prepareClientFixture('tui-demo', TMP_NAME);
  return { dir: fx.clientDir, mainRs: path.join(fx.clientDir, 'src', 'main.rs') };
}

function editTitle(mainRs: string): void {
  const text = fs.readFileSync(mainRs, 'utf8');
  assert.ok(text.includes(OLD_TITLE));
  fs.writeFileSync(mainRs, text.replace(OLD_TITLE, `"${NEW_TITLE}"`));
}

describe('terminal apps: the app gets a real terminal', function () {
  this.timeout(30 * 60_000);
  const cleanup: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanup.splice(0)) c();
  });

  it('terminal mode: a ratatui app draws, a title edit is patched onto the screen, quitting restores the terminal', async () => {
    const { dir, mainRs } = prepareTui();
    // `stty -a` after subsecond-lsp exits shows the terminal modes the user is left with.
    const script = `"${process.execPath}" "${SERVER_BIN}" run --manifest-path "${dir}/Cargo.toml"; echo "EXIT=$?"; stty -a`;
    const pty = new PtySession(['sh', '-c', script], { cwd: dir });
    let appPid: number | undefined;
    cleanup.push(() => {
      pty.kill();
      if (appPid && isAlive(appPid)) process.kill(appPid, 'SIGKILL');
    });
    const messagesFile = await pty.waitFor('the messages file named at start', () => /messages go to (\S+)/.exec(pty.text())?.[1], 60_000);
    await pty.waitFor('the app to draw its title', () => pty.screen.includes('tui-one'), 20 * 60_000);
    assert.ok(pty.screen.includes('\x1b[?1049h'), 'the app switched to the alternate screen itself');
    appPid = Number(await pty.waitFor("the app's pid on its screen", () => /pid\s*(\d+)\s*\(q\s*quits/.exec(pty.text())?.[1], 10_000));
    assert.ok(appPid > 0 && isAlive(appPid), `the app's pid is on its screen: ${appPid}`);
    await pollUntil('the app to connect', () => /running \(pid \d+/.test(fs.readFileSync(messagesFile, 'utf8')), 60_000);

    const drawnBefore = pty.screen.length;
    editTitle(mainRs);
    await pty.waitFor('the new title on the screen', () => pty.screen.slice(drawnBefore).includes(NEW_TITLE));
    assert.ok(isAlive(appPid), 'patched in place: the same process');
    const messages = fs.readFileSync(messagesFile, 'utf8');
    assert.match(messages, /patched main\.rs in \d+ ms/, 'the patch message went to the messages file');
    // While the app had the terminal, none of our messages were drawn on it.
    assert.doesNotMatch(pty.screen.slice(pty.screen.indexOf('\x1b[?1049h')), /patched main\.rs/);

    pty.type('q');
    assert.equal(await pty.waitExit(60_000), 0);
    const after = pty.text().slice(pty.text().lastIndexOf(NEW_TITLE));
    assert.match(after, /EXIT=0/, 'subsecond-lsp ended with the app');
    assert.match(after, /while the app had the terminal: \d+ messages?/, 'a summary after the app left');
    const modes = after.slice(after.indexOf('EXIT=0'));
    assert.match(modes, /(^|\s)icanon(\s|$)/m, `canonical mode is back:\n${modes}`);
    assert.match(modes, /(^|\s)echo(\s|$)/m, `echo is back:\n${modes}`);
    assert.ok(pty.screen.lastIndexOf('\x1b[?1049l') > pty.screen.lastIndexOf(NEW_TITLE), 'the alternate screen was left');
    await pollUntil('the app to be gone', () => !isAlive(appPid!), 10_000);
  });

  it('LSP mode, appTerminal "none": a terminal app that dies at once is explained, naming the setting; its output is in the log', async () => {
    const { dir } = prepareTui();
    const client = new TestLspClient({ rootDir: dir, initializationOptions: { subsecond: { appTerminal: 'none' } } });
    cleanup.push(() => client.process.kill('SIGKILL'));
    const output: Array<{ stream: string; line: string }> = [];
    client.connection.onNotification('subsecond/appOutput', (p: { stream: string; line: string }) => void output.push(p));
    await client.initialize();
    await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
    // The agent may or may not have connected before the app died: either way the user is told.
    const told = await client.waitFor('the explanation', () => client.messages.find((m) => /no terminal/.test(m.message)), 30_000);
    assert.match(told.message, /exited with code \d+ within a second of starting, apparently because it has no terminal/);
    assert.match(told.message, /"appTerminal" to "editor"/);
    const status = await client.executeCommand<{ app: string; appLog?: string }>('subsecond.status');
    assert.equal(status.app, 'crashed');
    assert.ok(status.appLog && fs.existsSync(status.appLog), `the status names the log: ${status.appLog}`);
    const log = fs.readFileSync(status.appLog, 'utf8');
    assert.match(log, /failed to initialize terminal|No such device or address/, 'the panic is in the log');
    assert.ok(output.some((o) => o.stream === 'stderr' && /panicked|failed to initialize terminal/.test(o.line)), 'and in subsecond/appOutput');
    await client.shutdown();
  });

  it('LSP mode, appTerminal "editor": the editor opens the app in its terminal; patch and stop work the same', async () => {
    const { dir, mainRs } = prepareTui();
    const client = new TestLspClient({ rootDir: dir, initializationOptions: { subsecond: { appTerminal: 'editor' } } });
    let pty: PtySession | undefined;
    const requests: Array<{ args: string[]; cwd: string; env: Record<string, string>; title: string }> = [];
    // The editor's side of runInTerminal: a terminal (here a pseudo-terminal) running the command.
    client.connection.onRequest('subsecond/runInTerminal', (p: (typeof requests)[number]) => {
      requests.push(p);
      pty = new PtySession(p.args, { cwd: p.cwd, env: { ...process.env, ...p.env } });
      return { processId: pty.process.pid };
    });
    cleanup.push(() => {
      pty?.kill();
      client.process.kill('SIGKILL');
    });
    await client.initialize();
    const started = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
    assert.equal(started.ok, true, started.message);
    const pid = Number(/pid (\d+)/.exec(started.message)?.[1]);
    assert.equal(requests.length, 1);
    assert.equal(requests[0].cwd, dir);
    assert.ok(pty);
    await pty.waitFor('the app to draw in the editor terminal', () => pty!.screen.includes('tui-one'), 60_000);
    const drawnPid = await pty.waitFor("the app's pid on its screen", () => /pid\s*(\d+)\s*\(q\s*quits/.exec(pty!.text())?.[1], 10_000);
    assert.equal(Number(drawnPid), pid, 'the pid the server tracks is the process drawing in the terminal');

    const drawnBefore = pty.screen.length;
    editTitle(mainRs);
    const text = fs.readFileSync(mainRs, 'utf8');
    await client.open(mainRs, text);
    await client.changeAndSave(mainRs, text);
    await pty.waitFor('the new title in the editor terminal', () => pty!.screen.slice(drawnBefore).includes(NEW_TITLE));
    const status = await client.waitFor('a patch status', () => client.statuses.find((s) => s.patch === 'applied'));
    assert.match(status.message, /patched main\.rs/);

    const stopped = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.stopApp');
    assert.equal(stopped.ok, true, stopped.message);
    // stopApp returns once the app has died; the terminal reaps it a moment later.
    await pollUntil('the app to be gone', () => !isAlive(pid), 5_000);
    await pty.waitExit(10_000);
    const log = fs.readFileSync((await client.executeCommand<{ appLog: string }>('subsecond.status')).appLog, 'utf8');
    assert.match(log, new RegExp(`tui-demo started \\(pid ${pid}\\)`));
    assert.match(log, new RegExp(`pid ${pid} ended \\(stopped by subsecond-lsp\\)`));
    await client.shutdown();
  });
});

describe('terminal apps: appTerminal as a command prefix (tmux)', function () {
  this.timeout(30 * 60_000);
  const socket = `subsecond-e2e-${process.pid}`;
  const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  after(() => tmux('kill-server'));

  it('the app runs in a tmux window the prefix opens; patch and stop work the same', async function () {
    if (spawnSync('tmux', ['-V']).status !== 0) {
      if (process.env.CI) assert.fail('tmux is missing (.ci/run installs it)');
      this.skip();
    }
    const { dir, mainRs } = prepareTui();
    const prefix = ['tmux', '-L', socket, 'new-session', '-d', '-s', 'app', '-x', '100', '-y', '30'];
    const client = new TestLspClient({ rootDir: dir, initializationOptions: { subsecond: { appTerminal: prefix } } });
    try {
      await client.initialize();
      const started = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.startApp');
      assert.equal(started.ok, true, started.message);
      const pid = Number(/pid (\d+)/.exec(started.message)?.[1]);
      const screen = () => tmux('capture-pane', '-p', '-t', 'app').stdout ?? '';
      const waitScreen = (what: string, re: RegExp) => pollUntil(what, () => re.test(screen()), 60_000, () => `screen:\n${screen()}`);
      // capture-pane shows the screen as the user sees it, not the bytes that drew it.
      await waitScreen('the app on the tmux screen', new RegExp(`┌tui-one─+┐[\\s\\S]*frame \\d+  pid ${pid}  \\(q quits\\)`));
      const text = fs.readFileSync(mainRs, 'utf8').replace(OLD_TITLE, '"patched in tmux"');
      fs.writeFileSync(mainRs, text);
      await client.open(mainRs, text);
      await client.changeAndSave(mainRs, text);
      await waitScreen('the new title on the tmux screen', /┌patched in tmux─+┐/);
      assert.ok(isAlive(pid));
      const stopped = await client.executeCommand<{ ok: boolean; message: string }>('subsecond.stopApp');
      assert.equal(stopped.ok, true, stopped.message);
      await pollUntil('the app to be gone', () => !isAlive(pid), 5_000); // tmux reaps it a moment later
    } finally {
      await client.shutdown();
    }
  });
});

describe('terminal mode with piped app output: keys', function () {
  this.timeout(30 * 60_000);

  it('r restarts, p patches now, q quits, and every hint names a key this mode has', async () => {
    const fx = prepareCounterFixture();
    const pty = new PtySession([process.execPath, SERVER_BIN, 'run', '--app-terminal', 'piped', '--manifest-path', `${fx.counterDir}/Cargo.toml`], { cwd: fx.counterDir });
    const pids = () => [...pty.text().matchAll(/tick=\d+ count=\d+ tip=\S+ core=\S+ pid=(\d+)/g)].map((m) => Number(m[1]));
    try {
      await pty.waitFor('the keys hint', () => /keys: r restart · p patch now · q quit/.test(pty.text()), 20 * 60_000);
      await pty.waitFor('a tick', () => pids().length > 0);
      const pid0 = pids()[0];
      const main = fs.readFileSync(fx.mainRs, 'utf8');
      fs.writeFileSync(fx.mainRs, main.replace('pub count: u64,', 'pub count: u64,\n    pub extra: u8,').replace('State { count: 0 }', 'State { count: 0, extra: 0 }'));
      await pty.waitFor('the blocked patch naming the r key', () => /patch blocked: .*press r to apply/.test(pty.text()));
      let seen = pty.text().length;
      pty.type('p');
      await pty.waitFor('p: an explicit patch attempt, still blocked', () => /patch blocked/.test(pty.text().slice(seen)));
      seen = pty.text().length;
      pty.type('r');
      const pid1 = await pty.waitFor('r: a new process', () => pids().find((p) => p !== pid0), 10 * 60_000);
      assert.equal(isAlive(pid0), false, 'the old app was stopped');
      assert.doesNotMatch(pty.text(), /subsecond\.(start|restart|stop)App|subsecond\.patch/, 'no editor command is offered in the terminal');
      pty.type('q');
      assert.equal(await pty.waitExit(30_000), 0);
      await pollUntil('the app to be stopped', () => !isAlive(pid1), 10_000);
    } finally {
      pty.kill();
    }
  });
});
