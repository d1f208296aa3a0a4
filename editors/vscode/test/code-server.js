#!/usr/bin/env node
// A real VS Code run: code-server (VS Code in a browser) with the packaged .vsix installed, driven
// by playwright-core and Debian's Chromium on 127.0.0.1. Does what a user does — open a Rust file,
// start the app from the command palette, add a struct field and save — and asserts what the user
// sees: the status bar, the warning's squiggle, its Problems entry and the "Restart app to apply"
// quick fix, which restarts the app and clears the warning. Started by run-code-server.sh.
//
// env: CODE_SERVER (binary), PLAYWRIGHT_CORE (module dir), CHROMIUM (binary), VSIX (package),
//      WORK (a scratch dir), STEP_TIMEOUT_MS (default 90000)
'use strict';

const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { spawn, execFileSync } = require('node:child_process');

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run editors/vscode/test/run-code-server.sh)`);
  return v;
};
const codeServer = env('CODE_SERVER');
const { chromium } = require(env('PLAYWRIGHT_CORE'));
const work = env('WORK');
const stepTimeout = Number(process.env.STEP_TIMEOUT_MS || 90_000);
const log = (m) => console.log(`code-server test: ${m}`);

// The Neovim smoke test's app, taken from its script (one copy, as the Helix test does): a plain
// dx-compatible devserver client (so a start completes at once) that prints a tick every 200 ms.
const MAIN_RS = (() => {
  const script = fs.readFileSync(path.join(__dirname, '..', '..', 'neovim', 'test', 'smoke.sh'), 'utf8');
  const m = /^cat >"\$project\/src\/main\.rs" <<'EOF'\n([\s\S]*?)^EOF$/m.exec(script);
  if (!m || !m[1].includes('pub struct App')) throw new Error('could not take the fixture app from editors/neovim/test/smoke.sh');
  return m[1];
})();

/** 1-based line of the fixture's first line containing `text`. */
function lineOf(text) {
  return MAIN_RS.split('\n').findIndex((l) => l.includes(text)) + 1;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function main() {
  const project = path.join(work, 'demo');
  fs.mkdirSync(path.join(project, 'src'), { recursive: true });
  fs.writeFileSync(path.join(project, 'Cargo.toml'), '[package]\nname = "demo"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n');
  fs.writeFileSync(path.join(project, 'src', 'main.rs'), MAIN_RS);
  const userData = path.join(work, 'user-data');
  const extensions = path.join(work, 'extensions');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.writeFileSync(
    path.join(userData, 'User', 'settings.json'),
    JSON.stringify({
      'security.workspace.trust.enabled': false,
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'extensions.ignoreRecommendations': true,
      'telemetry.telemetryLevel': 'off',
      'subsecond.autoPatch': false,
      'subsecond-lsp.trace.server': process.env.TRACE_LSP ? 'messages' : 'off',
    }),
  );

  log(`installing ${env('VSIX')}`);
  execFileSync(codeServer, ['--user-data-dir', userData, '--extensions-dir', extensions, '--install-extension', env('VSIX')], { stdio: 'inherit' });

  const port = await freePort();
  const server = spawn(
    codeServer,
    ['--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--user-data-dir', userData, '--extensions-dir', extensions, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', project],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, XDG_CONFIG_HOME: path.join(work, 'config') } },
  );
  let serverOutput = '';
  server.stdout.on('data', (b) => (serverOutput += b));
  server.stderr.on('data', (b) => (serverOutput += b));
  const browser = await chromium.launch({ executablePath: env('CHROMIUM'), headless: true, args: ['--no-sandbox'] });
  let page;
  const screenshot = path.join(work, 'vscode.png');
  try {
    await waitForHttp(port);
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(project)}`);
    await page.waitForSelector('.monaco-workbench', { timeout: stepTimeout });
    log('workbench loaded');

    // Open src/main.rs through Quick Open.
    await runCommand(page, 'Go to File', async () => {
      await page.keyboard.type('main.rs');
      await page.waitForSelector('.quick-input-list .monaco-list-row:has-text("main.rs")', { timeout: stepTimeout });
      await page.keyboard.press('Enter');
    });
    await page.waitForSelector('.monaco-editor .view-lines', { timeout: stepTimeout });
    await page.waitForFunction(() => document.querySelector('.monaco-editor .view-lines')?.textContent.replace(/\u00a0/g, ' ').includes('pub struct App'), null, { timeout: stepTimeout });
    log('opened src/main.rs');

    // The extension's status bar item: the bundled server started (nothing on PATH needed).
    const statusItem = page.locator('#subsecond-vscode\\.subsecond, [id="subsecond-lsp.subsecond-vscode.subsecond"], .statusbar-item:has-text("subsecond")').first();
    await statusItem.waitFor({ timeout: stepTimeout });
    log(`status bar: ${(await statusItem.innerText()).trim()}`);

    // Start the app from the command palette.
    await runCommand(page, 'Subsecond: Start App');
    await page.waitForFunction(() => [...document.querySelectorAll('.statusbar-item')].some((e) => /\brunning\b/.test(e.textContent)), null, { timeout: stepTimeout });
    log(`after Subsecond: Start App the status bar shows: ${await statusText(page)}`);
    log(`lenses: ${await lensesShowing(page, 'restart app')}`);

    // Add a field to App, initialize it where App is built, and save.
    await gotoLine(page, lineOf('pub name: String,'));
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await page.keyboard.type('pub extra: bool,');
    await gotoLine(page, lineOf('let mut app = App {') + 1);
    await page.keyboard.press('End');
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowLeft'); // before ` };`
    await page.keyboard.type(', extra: false');
    await page.keyboard.press('Control+S');
    log('added `pub extra: bool,` to App, initialized it and saved');

    // The squiggle under App (Monaco renders only the lines on screen: bring App's into view).
    await gotoLine(page, lineOf('pub struct App'));
    await page.waitForSelector('.monaco-editor .squiggly-warning', { timeout: stepTimeout });
    log('squiggle: a warning squiggle is drawn');

    // The Problems entry.
    await runCommand(page, 'View: Focus Problems');
    const problem = page.locator('.markers-panel .monaco-list-row', { hasText: 'field `extra: bool` added to `App`' }).first();
    await problem.waitFor({ timeout: stepTimeout });
    log(`Problems: ${(await problem.innerText()).replace(/\s+/g, ' ').trim()}`);

    // The quick fix from the added field's line (not the warning's).
    await page.locator('.monaco-editor .view-lines').first().click();
    await gotoLine(page, lineOf('pub name: String,') + 1);
    const fix = page.locator('.action-widget .action-item, .context-view .monaco-list-row', { hasText: 'Restart app to apply' }).first();
    // Seen once in five runs: the menu opened with "No code actions available" although the
    // server had answered with the action (its trace shows the response); a second ctrl+. showed
    // it. Retried, and said so, rather than hidden.
    for (let attempt = 1; ; attempt++) {
      await page.keyboard.press('Control+.');
      const shown = await fix.waitFor({ timeout: 10_000 }).then(() => true, () => false);
      if (shown) break;
      if (attempt === 3) throw new Error('the quick fix menu never offered "Restart app to apply"');
      log(`quick fix menu without the action on attempt ${attempt}: retrying`);
      await page.keyboard.press('Escape');
      await page.waitForTimeout(1000);
    }
    log('quick fix offered on the field line: Restart app to apply');
    await page.screenshot({ path: path.join(work, 'vscode-quickfix.png') });
    await page.keyboard.press('Enter'); // the menu's first (preferred) action
    // The app restarts from the new code: the warning goes and the status bar shows it running.
    await page.waitForFunction(() => !document.querySelector('.monaco-editor .squiggly-warning'), null, { timeout: stepTimeout });
    await page.waitForFunction(() => [...document.querySelectorAll('.statusbar-item')].some((e) => /\brunning\b/.test(e.textContent)), null, { timeout: stepTimeout });
    log(`after the quick fix the warning is gone and the status bar shows: ${await statusText(page)}`);
    log(`lenses: ${await lensesShowing(page, 'restart app')}`);

    // Built before the save: change `app.count += 1;` without saving (one line lower now: the
    // field added above), wait for the patch the server builds from the buffer while typing
    // pauses, then save and patch: the prepared patch is what is sent.
    await page.locator('.monaco-editor .view-lines').first().click();
    await gotoLine(page, lineOf('app.count += 1;') + 1);
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowLeft'); // before `;`
    await page.keyboard.press('Backspace');
    await page.keyboard.type('2');
    const speculative = path.join(project, 'target', 'subsecond-lsp', 'demo', 'speculative');
    const built = () => fs.existsSync(speculative) && fs.readdirSync(speculative).some((f) => /^libdemo-speculative-.*\.so$/.test(f));
    for (const end = Date.now() + stepTimeout; !built(); await page.waitForTimeout(200)) {
      if (Date.now() > end) throw new Error('no patch was built from the unsaved buffer');
    }
    await page.keyboard.press('Control+S');
    await runCommand(page, 'Subsecond: Patch Now');
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'prepared before the save' }).first();
    await toast.waitFor({ timeout: stepTimeout });
    log(`after a pause in typing, save and Subsecond: Patch Now: ${(await toast.innerText()).replace(/\s+/g, ' ').trim()}`);

    await page.screenshot({ path: screenshot });
    log(`screenshot: ${screenshot}`);
    log('passed');
  } catch (err) {
    if (page) await page.screenshot({ path: screenshot }).catch(() => undefined);
    console.error(`code-server test: FAIL: ${err.stack || err}\nscreenshot: ${screenshot}\ncode-server output (tail):\n${serverOutput.slice(-3000)}`);
    process.exitCode = 1;
  } finally {
    await browser.close().catch(() => undefined);
    try {
      process.kill(-server.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
}

async function waitForHttp(port) {
  const deadline = Date.now() + stepTimeout;
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.ok) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error('code-server did not answer /healthz');
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** F1, type the command's name, Enter (or `then` for a picker that follows). */
async function runCommand(page, name, then) {
  await page.keyboard.press('F1');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible', timeout: stepTimeout });
  if (name === 'Go to File') {
    // Quick Open is the palette without the leading '>'.
    await page.keyboard.press('Backspace');
    await then();
    return;
  }
  await page.keyboard.type(name);
  await page.waitForSelector(`.quick-input-list .monaco-list-row:has-text("${name.replace(/"/g, '\\"')}")`, { timeout: stepTimeout });
  await page.keyboard.press('Enter');
}

async function gotoLine(page, line) {
  await page.keyboard.press('Control+G');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible', timeout: stepTimeout });
  await page.keyboard.type(String(line));
  await page.keyboard.press('Enter');
}

/** Waits until the editor's code lenses at the top include `text`; returns them all. */
async function lensesShowing(page, text) {
  await page.keyboard.press('Control+Home');
  await page.waitForFunction(
    (t) => [...document.querySelectorAll('.monaco-editor .codelens-decoration')].some((e) => e.textContent.includes(t)),
    text,
    { timeout: stepTimeout },
  );
  const all = await page.locator('.monaco-editor .codelens-decoration').allInnerTexts();
  return all.map((t) => t.replace(/\s+/g, ' ').trim()).join(' / ');
}

async function statusText(page) {
  const items = await page.locator('.statusbar-item').allInnerTexts();
  return items.map((t) => t.trim()).filter((t) => /subsecond|running|patch|restart|crash|fail|start/i.test(t)).join(' | ');
}

main();
