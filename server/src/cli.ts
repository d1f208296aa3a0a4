// Entry point: `subsecond-lsp --stdio` (LSP over stdio) or `subsecond-lsp run` (terminal mode).
import { createConnection, ProposedFeatures, ResponseMessage, StreamMessageWriter } from 'vscode-languageserver/node';
import { StdioMessageReader } from './lsp/stdio-reader';
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
    const writer = new StreamMessageWriter(process.stdout);
    const reader = new StdioMessageReader(process.stdin, {
      // Broken framing: there is no telling where the next message starts. Going on would mean
      // a server that looks alive and never answers, so say why and stop (with the app).
      fatal: (reason) => {
        process.stderr.write(`subsecond-lsp: cannot read LSP messages from stdin: ${reason}. Exiting; the app it started is stopped.\n`);
        killAllNow();
        process.exit(1);
      },
      // One unusable message in intact framing: answer it with an error and keep serving.
      skipped: (reason, code) => {
        process.stderr.write(`subsecond-lsp: skipped an unreadable message: ${reason}\n`);
        const reply: ResponseMessage = { jsonrpc: '2.0', id: null, error: { code, message: `subsecond-lsp: ${reason}` } };
        void writer.write(reply).catch(() => undefined);
      },
    });
    const connection = createConnection(ProposedFeatures.all, reader, writer);
    // An internal error is reported, never fatal: the editor gets one clean line, the stack goes
    // to stderr (the server's log) for whoever debugs it.
    const report = (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      process.stderr.write(`subsecond-lsp internal error: ${e.stack ?? e.message}\n`);
      try {
        connection.console.error(`subsecond-lsp internal error: ${e.message} (details in the server's stderr)`);
      } catch {
        /* the editor is gone: stderr has it */
      }
    };
    process.on('uncaughtException', report);
    process.on('unhandledRejection', report);
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
