// Entry point: `subsecond-lsp --stdio` (LSP over stdio) or `subsecond-lsp run` (terminal mode).
import { createConnection, ProposedFeatures, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver/node';
import { startLanguageServer } from './lsp/server';
import { runTerminal } from './terminal/run';
import { runDoctorCommand } from './terminal/doctor';
import { killAllNow } from './support/process';
import { packageVersion } from './support/version';

const USAGE = `subsecond-lsp ${packageVersion()}
Makes Rust hot-patching (subsecond) safe and visible.

usage:
  subsecond-lsp --stdio                     speak LSP on stdin/stdout (for editors)
  subsecond-lsp run [--manifest-path P] [--bin B] [--package N] [--app-terminal inherit|piped]
                    [--verbose] [-- CARGO_ARGS]
                                            build, run and hot-patch an app from the terminal
                                            (in a terminal, the app gets it: TUIs work as under
                                            cargo run; restart: kill -USR1, patch now: kill -USR2)
  subsecond-lsp doctor [--manifest-path P] [--bin B] [--package N] [-- CARGO_ARGS]
                                            check the machine and the app before the first patch
  subsecond-lsp --version | --help
`;

export function main(argv: string[]): void {
  // Whatever happens, the processes we started (cargo, rustc, the app) die with us. They run in
  // their own process groups, so a signal that kills us would not reach them: on a terminating
  // signal, stop them first. (`run` installs its own graceful handlers for SIGINT/SIGTERM.)
  process.on('exit', killAllNow);
  for (const [sig, code] of [['SIGTERM', 143], ['SIGHUP', 129], ['SIGINT', 130]] as const) {
    if (argv[0] === 'run' && sig !== 'SIGHUP') continue;
    process.on(sig, () => {
      killAllNow();
      process.exit(code);
    });
  }
  if (argv.includes('--version')) {
    process.stdout.write(`${packageVersion()}\n`);
    return;
  }
  if (argv[0] === 'run') {
    runTerminal(argv.slice(1)).then(
      (code) => process.exit(code),
      (err: Error) => {
        process.stderr.write(`subsecond-lsp run failed: ${err.stack ?? err.message}\n`);
        process.exit(1);
      },
    );
    return;
  }
  if (argv[0] === 'doctor') {
    runDoctorCommand(argv.slice(1)).then(
      (code) => process.exit(code),
      (err: Error) => {
        process.stderr.write(`subsecond-lsp doctor failed: ${err.stack ?? err.message}\n`);
        process.exit(1);
      },
    );
    return;
  }
  if (argv.includes('--stdio')) {
    // stdout carries the protocol: anything printed by mistake goes to stderr instead.
    console.log = console.info = console.warn = console.error;
    const connection = createConnection(ProposedFeatures.all, new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout));
    // An internal error is reported, never fatal; if the editor is gone, stderr is all there is.
    const report = (text: string) => {
      try {
        connection.console.error(`internal error: ${text}`);
      } catch {
        process.stderr.write(`subsecond-lsp internal error: ${text}\n`);
      }
    };
    process.on('uncaughtException', (err) => report(err.stack ?? err.message));
    process.on('unhandledRejection', (err) => report(String((err as Error)?.stack ?? err)));
    // The editor went away without `exit` (crash, closed pipe): stop the app and everything else.
    const server = startLanguageServer(connection);
    const editorGone = () => {
      killAllNow();
      process.exit(server.shutdownRequested() ? 0 : 1);
    };
    process.stdin.once('end', editorGone);
    process.stdin.once('close', editorGone);
    return;
  }
  process.stderr.write(argv.includes('--help') || argv.includes('-h') ? USAGE : `unknown arguments: ${argv.join(' ') || '(none)'}\n\n${USAGE}`);
  process.exitCode = argv.includes('--help') || argv.includes('-h') ? 0 : 2;
}
