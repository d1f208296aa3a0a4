// The real server over stdio, fed broken LSP framing after a good `initialize`. For every case it
// must either keep answering (a request sent afterwards gets its response) or say what is wrong on
// stderr and exit non-zero. Never: alive and deaf, a stack trace, or a clean exit code.
import { strict as assert } from 'node:assert';
import { spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SERVER_BIN } from '../support/lsp-client';

function frame(body: string | Buffer): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return Buffer.concat([Buffer.from(`Content-Length: ${b.length}\r\n\r\n`, 'ascii'), b]);
}

/** Reads framed responses from the server's stdout (the test's own, simple reader). */
class Responses {
  private buf = Buffer.alloc(0);
  readonly messages: Array<{ id?: unknown; error?: { code: number; message: string }; result?: unknown }> = [];
  constructor(child: ChildProcess) {
    child.stdout!.on('data', (b: Buffer) => {
      this.buf = Buffer.concat([this.buf, b]);
      for (;;) {
        const end = this.buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const m = /Content-Length: (\d+)/i.exec(this.buf.subarray(0, end).toString('ascii'));
        const len = Number(m?.[1]);
        if (this.buf.length < end + 4 + len) return;
        this.messages.push(JSON.parse(this.buf.subarray(end + 4, end + 4 + len).toString('utf8')));
        this.buf = this.buf.subarray(end + 4 + len);
      }
    });
  }
  find(id: number) {
    return this.messages.find((m) => m.id === id);
  }
}

const request = (id: number, method: string, params: unknown = {}) => frame(JSON.stringify({ jsonrpc: '2.0', id, method, params }));

const CASES: Array<{ name: string; bytes: Buffer }> = [
  { name: 'Content-Length: abc', bytes: Buffer.from('Content-Length: abc\r\n\r\n{}') },
  { name: 'no Content-Length header', bytes: Buffer.from('Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}') },
  { name: 'negative Content-Length', bytes: Buffer.from('Content-Length: -5\r\n\r\n{}') },
  { name: 'Content-Length too short', bytes: Buffer.from('Content-Length: 10\r\n\r\n{"jsonrpc":"2.0","method":"initialized","params":{}}') },
  { name: 'Content-Length too long', bytes: Buffer.from('Content-Length: 900\r\n\r\n{"jsonrpc":"2.0","method":"initialized","params":{}}') },
  { name: 'an empty header block', bytes: Buffer.from('\r\n\r\n') },
  { name: 'binary garbage', bytes: Buffer.from([0x00, 0xff, 0xfe, 0x13, 0x37, 0x80, 0x01, 0x9c, 0x0d, 0x0a, 0x00, 0xc3]) },
  { name: 'a body that is not JSON', bytes: Buffer.from('Content-Length: 9\r\n\r\n{not json') },
  { name: 'JSON that is not a JSON-RPC object', bytes: Buffer.from('Content-Length: 2\r\n\r\n[]') },
  { name: 'a body that is not UTF-8', bytes: frame(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])) },
  { name: 'LF-only header lines', bytes: Buffer.from('Content-Length: 2\n\n{}') },
  { name: 'a header line without a colon', bytes: Buffer.from('Content-Length: 2\r\nthis is no header\r\n\r\n{}') },
  { name: 'a Content-Length of 100 GB', bytes: Buffer.from('Content-Length: 100000000000\r\n\r\n{}') },
];

describe('language server with broken LSP framing on stdin', function () {
  this.timeout(60_000);
  let dir: string;
  const children: ChildProcess[] = [];
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'framing-'));
    fs.writeFileSync(path.join(dir, 'Cargo.toml'), '[package]\nname = "framing"\nversion = "0.1.0"\nedition = "2021"\n');
    fs.mkdirSync(path.join(dir, 'src'));
    fs.writeFileSync(path.join(dir, 'src', 'main.rs'), 'fn main() {}\n');
  });
  after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const c of CASES) {
    it(`${c.name}: recovers or exits non-zero with a clear error, never goes deaf`, async () => {
      const child = spawn(process.execPath, [SERVER_BIN, '--stdio'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
      children.push(child);
      let stderr = '';
      child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const responses = new Responses(child);
      const wait = async (cond: () => boolean, ms: number) => {
        const end = Date.now() + ms;
        while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
        return cond();
      };
      child.stdin!.on('error', () => undefined); // the server may be gone before we finish writing
      child.stdin!.write(request(1, 'initialize', { processId: null, rootUri: null, capabilities: {} }));
      assert.ok(await wait(() => responses.find(1) !== undefined, 20_000), `initialize answered\n${stderr}`);

      child.stdin!.write(c.bytes);
      // A request after the bad input: unknown to the server, so it must answer MethodNotFound.
      child.stdin!.write(request(2, 'subsecond/ping'));
      let code: number | null | undefined;
      void exited.then((x) => (code = x));
      const settled = await wait(() => responses.find(2) !== undefined || code !== undefined, 20_000);
      assert.ok(settled, `neither an answer nor an exit within 20 s: the server went deaf\nstderr: ${stderr}`);
      assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
      if (code !== undefined) {
        assert.notEqual(code, 0, 'a server that gives up must say so with its exit code');
        assert.match(stderr, /subsecond-lsp: cannot read LSP messages from stdin: .+\. Exiting/, stderr);
      } else {
        assert.equal(responses.find(2)?.error?.code, -32601, JSON.stringify(responses.messages));
        // Still serving: shut down cleanly.
        child.stdin!.write(request(3, 'shutdown', null));
        assert.ok(await wait(() => responses.find(3) !== undefined, 10_000), 'shutdown answered');
        child.stdin!.write(frame(JSON.stringify({ jsonrpc: '2.0', method: 'exit' })));
        assert.equal(await exited, 0);
      }
    });
  }
});
