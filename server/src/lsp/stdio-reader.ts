// Strict LSP base-protocol reader for stdin: `Content-Length: N\r\n` headers, a blank line, N
// bytes of JSON. The library's reader can be left waiting forever by a broken frame (a bad or
// missing length, a header block that never ends), which makes the server deaf while it still
// looks alive. Here every framing error is detected and reported:
//   - the framing is intact but the body is not a JSON-RPC object → recoverable: the caller answers
//     with a JSON-RPC error and reading goes on;
//   - the framing itself is broken (there is no telling where the next message starts) → fatal:
//     the caller says so on stderr and exits non-zero, stopping its app.
// An incomplete message that gets no more bytes for `stallMs` is fatal too (a length too long).
import { AbstractMessageReader, DataCallback, Disposable, Message } from 'vscode-languageserver/node';

export interface StdioReaderHooks {
  /** The stream cannot be read any more. */
  fatal(reason: string): void;
  /** One message was unusable and skipped; `code` is the JSON-RPC error to answer with. */
  skipped(reason: string, code: number): void;
}

const CRLF2 = Buffer.from('\r\n\r\n');
const MAX_HEADER_BYTES = 16 * 1024;
export const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;

export class StdioMessageReader extends AbstractMessageReader {
  private buffer: Buffer = Buffer.alloc(0);
  /** Body length of the message being read, once its headers are complete. */
  private bodyLength: number | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  private dead = false;

  constructor(
    private readonly input: NodeJS.ReadableStream,
    private readonly hooks: StdioReaderHooks,
    private readonly stallMs = 5000,
  ) {
    super();
  }

  listen(callback: DataCallback): Disposable {
    const onData = (chunk: Buffer) => this.onData(chunk, callback);
    const onEnd = () => {
      if (this.stallTimer) clearTimeout(this.stallTimer);
      this.fireClose();
    };
    const onError = (err: Error) => this.fireError(err);
    this.input.on('data', onData);
    this.input.on('end', onEnd);
    this.input.on('close', onEnd);
    this.input.on('error', onError);
    return Disposable.create(() => {
      this.input.off('data', onData);
      this.input.off('end', onEnd);
      this.input.off('close', onEnd);
      this.input.off('error', onError);
      if (this.stallTimer) clearTimeout(this.stallTimer);
    });
  }

  private fail(reason: string): void {
    if (this.dead) return;
    this.dead = true;
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.buffer = Buffer.alloc(0);
    this.hooks.fatal(reason);
  }

  private onData(chunk: Buffer, callback: DataCallback): void {
    if (this.dead) return;
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    while (!this.dead) {
      if (this.bodyLength === undefined) {
        const length = this.readHeaders();
        if (length === undefined) break;
        this.bodyLength = length;
      }
      if (this.buffer.length < this.bodyLength) break;
      const body = this.buffer.subarray(0, this.bodyLength);
      this.buffer = this.buffer.subarray(this.bodyLength);
      this.bodyLength = undefined;
      const message = this.decode(body);
      if (message) callback(message);
    }
    if (this.stallTimer) clearTimeout(this.stallTimer);
    if (!this.dead && this.buffer.length > 0) {
      // Something incomplete is waiting for bytes: if none come, the framing was wrong.
      this.stallTimer = setTimeout(() => {
        const what =
          this.bodyLength !== undefined
            ? `a message announced ${this.bodyLength} bytes but only ${this.buffer.length} arrived (Content-Length too long?)`
            : `an unfinished header block (${describeBytes(this.buffer)})`;
        this.fail(`${what}, and nothing more for ${this.stallMs / 1000} s`);
      }, this.stallMs);
      this.stallTimer.unref();
    }
  }

  /** Consumes one complete header block and returns its Content-Length; undefined if incomplete or failed. */
  private readHeaders(): number | undefined {
    const end = this.buffer.indexOf(CRLF2);
    const block = end < 0 ? this.buffer : this.buffer.subarray(0, end);
    // Header bytes are printable ASCII: anything else means we are not looking at a header.
    for (const b of block) {
      if ((b < 0x20 || b > 0x7e) && b !== 0x0d && b !== 0x0a && b !== 0x09) {
        this.fail(`the header block contains byte 0x${b.toString(16).padStart(2, '0')}, which no header has (${describeBytes(block)})`);
        return undefined;
      }
    }
    if (end < 0) {
      if (this.buffer.length > MAX_HEADER_BYTES) this.fail(`no end of the header block within ${MAX_HEADER_BYTES} bytes (${describeBytes(block)})`);
      else if (this.buffer.includes('\n\n')) this.fail(`header lines must end with \\r\\n (${describeBytes(block)})`);
      return undefined;
    }
    this.buffer = this.buffer.subarray(end + CRLF2.length);
    const text = block.toString('ascii');
    if (text.trim() === '') {
      this.fail('an empty header block (no Content-Length)');
      return undefined;
    }
    let length: number | undefined;
    for (const line of text.split('\r\n')) {
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon).trim() : '';
      if (!HEADER_NAME.test(name) || line.includes('\n')) {
        this.fail(`malformed header line ${JSON.stringify(line.slice(0, 80))}`);
        return undefined;
      }
      if (name.toLowerCase() !== 'content-length') continue; // Content-Type and unknown headers carry nothing we need
      const value = line.slice(colon + 1).trim();
      if (!/^[0-9]{1,12}$/.test(value)) {
        this.fail(`Content-Length ${JSON.stringify(value.slice(0, 40))} is not a non-negative whole number`);
        return undefined;
      }
      if (length !== undefined) {
        this.fail('two Content-Length headers');
        return undefined;
      }
      length = Number(value);
    }
    if (length === undefined) {
      this.fail(`a header block without Content-Length (${JSON.stringify(text.slice(0, 80))})`);
      return undefined;
    }
    if (length > MAX_MESSAGE_BYTES) {
      this.fail(`Content-Length ${length} exceeds the ${MAX_MESSAGE_BYTES / 1048576} MB limit`);
      return undefined;
    }
    return length;
  }

  /** The message in a complete body, or undefined after reporting why it was skipped. */
  private decode(body: Buffer): Message | undefined {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch {
      this.hooks.skipped(`a message body of ${body.length} bytes is not UTF-8`, PARSE_ERROR);
      return undefined;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      this.hooks.skipped(`a message body is not JSON (${(err as Error).message}): ${JSON.stringify(text.slice(0, 80))}`, PARSE_ERROR);
      return undefined;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.hooks.skipped(`a message is not a JSON-RPC object: ${JSON.stringify(text.slice(0, 80))}`, INVALID_REQUEST);
      return undefined;
    }
    return value as Message;
  }
}

function describeBytes(b: Buffer): string {
  const head = b.subarray(0, 32);
  const printable = head.every((x) => (x >= 0x20 && x <= 0x7e) || x === 0x0d || x === 0x0a);
  return printable ? `starts ${JSON.stringify(head.toString('ascii'))}` : `starts with bytes ${head.toString('hex')}`;
}
