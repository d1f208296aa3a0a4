// A private X display for tests of windowed apps: Xvfb picks a free display number itself
// (-displayfd) so parallel runs never collide. `xvfbProblem()` says why none can be had.
import { spawn, spawnSync, ChildProcess } from 'node:child_process';

export interface Xvfb {
  display: string;
  stop(): Promise<void>;
}

/** Why a windowed (WebKitGTK) app cannot run here, or undefined. */
export function webkitDesktopProblem(): string | undefined {
  if (spawnSync('sh', ['-c', 'command -v Xvfb'], { encoding: 'utf8' }).status !== 0) return 'Xvfb is not installed (apt-get install xvfb)';
  const pc = spawnSync('pkg-config', ['--exists', 'webkit2gtk-4.1', 'gtk+-3.0'], { encoding: 'utf8' });
  if (pc.error || pc.status !== 0) return 'WebKitGTK 4.1 / GTK 3 development files are missing (apt-get install libwebkit2gtk-4.1-dev libgtk-3-dev libxdo-dev)';
  return undefined;
}

export function startXvfb(timeoutMs = 20_000): Promise<Xvfb> {
  return new Promise((resolve, reject) => {
    const proc: ChildProcess = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1024x768x24', '-nolisten', 'tcp'], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    });
    let said = '';
    let stderr = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`Xvfb did not report a display within ${timeoutMs} ms: ${stderr.slice(-500)}`));
    }, timeoutMs);
    proc.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    proc.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited (${code}) before reporting a display: ${stderr.slice(-500)}`));
    });
    (proc.stdio[3] as NodeJS.ReadableStream).on('data', (b: Buffer) => {
      said += b.toString();
      const m = /^(\d+)\n/.exec(said);
      if (!m) return;
      clearTimeout(timer);
      proc.removeAllListeners('exit');
      resolve({
        display: `:${m[1]}`,
        stop: () =>
          new Promise<void>((done) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return done();
            proc.once('exit', () => done());
            proc.kill('SIGTERM');
          }),
      });
    });
  });
}

/**
 * For a desktop (WebKitGTK) app's `before` hook: skips the suite, saying why, when this machine
 * cannot show such a window; otherwise starts Xvfb.
 */
export async function startXvfbOrSkip(suite: Mocha.Context): Promise<Xvfb> {
  const problem = webkitDesktopProblem();
  if (problem) {
    // eslint-disable-next-line no-console
    console.log(`    skipped: ${problem}`);
    suite.skip();
  }
  return startXvfb();
}
