// The devserver: owns the loopback WebSocket server (dx 0.7.x protocol) and the connections of
// running apps. It routes a finished jump table to exactly the one process it was built for and
// collects the agent's acknowledgement.
// It never builds, links or analyses anything, never launches apps, and listens on 127.0.0.1
// unless the user names another address.
//
// Trust: any local process can connect and claim any pid. A connection counts as that pid's only
// when the claimed process itself holds the client socket (Linux: the socket's inode among
// /proc/<pid>/fd), and an agent's Hello must carry the secret given to the launch it claims. A
// peer that cannot be attributed that way (a tunnel's end, another machine, another pid
// namespace) counts only when it presents a launch's secret at the handshake: then it stands for
// that launch. Anything else gets nothing (no patches, no commands) and the user is told.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, RawData } from 'ws';
import {
  AgentMessage,
  DetourPlanMessage,
  DetourReport,
  DevserverCommand,
  JumpTable,
  encodeCommand,
  encodeDetourPlan,
  encodeAssetReload,
  encodeTemplateReload,
  encodeMigrateState,
  encodeHotReload,
  parseClientFrame,
  parseConnectQuery,
  agentVersionProblem,
  validateJumpTable,
  encodePatchLibrary,
} from './protocol';
import { canAttributeSockets, connectionHeldBy } from './peer-process';
import { LaunchProbe, PatchLibraryDelivery, PROBE_ENV, chooseDelivery, chunks, readPatchLibrary, writeLaunchProbe } from './patch-library';

/** Environment variable carrying the per-launch secret to the app's agent. */
export const LAUNCH_SECRET_ENV = 'SUBSECOND_LSP_SECRET';

/**
 * Handshake header carrying the launch secret (the agent sends it when it has one), so a peer that
 * /proc cannot attribute is judged at once rather than after a Hello that may never come.
 */
export const SECRET_HEADER = 'x-subsecond-lsp-secret';

/** A fresh per-launch secret (128 random bits, hex). */
export function newLaunchSecret(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Decides whether process `pid` holds the client end of a connection (server port, client port).
 * `undefined` means this machine cannot tell (no /proc): then only an agent's secret attributes.
 */
export type PeerCheck = (pid: number, serverPort: number, clientPort: number) => boolean | undefined;

const procPeerCheck: PeerCheck = (pid, serverPort, clientPort) =>
  canAttributeSockets() ? connectionHeldBy(pid, serverPort, clientPort) : undefined;

export interface AppConnection {
  /** Unique per connection (a reconnecting app gets a new id). */
  id: number;
  pid: number | undefined;
  /** Runtime address of the app's `main`; undefined when missing or unusable: the app is then unpatchable. */
  aslrReference: number | undefined;
  buildId: number;
  /**
   * The pid the app itself reported, when it differs from `pid`: an app in another pid namespace
   * or on another machine, attributed by its launch secret to the launched process `pid` (a
   * runner, a tunnel, a container's client). Frames for the app carry this one.
   */
  appPid?: number;
  /** True once the app's subsecond-agent said Hello (it will acknowledge patches). */
  isAgent: boolean;
  /** How patch libraries reach it, decided at Hello from what the agent reported ('path' until then). */
  patchLibraries: PatchLibraryDelivery;
  /** Why (what the agent reported), for the log; set at Hello. */
  patchLibrariesWhy?: string;
  /** Date.now() at the handshake. */
  connectedAt: number;
  /** The types of the app's live HotState handles, as its agent last reported them. */
  hotStateTypes?: string[];
}

export interface ListenOptions {
  port?: number;
  /** The address to bind (default 127.0.0.1). Peers on other machines count only with a launch secret. */
  host?: string;
  /** How a connection is attributed to the pid it claims (default: the socket's inode under /proc). */
  peerCheck?: PeerCheck;
}

export type PatchDelivery =
  | { acked: true; ok: boolean; error?: string; applyMicros?: number; entries?: number; detours?: DetourReport; migrated?: string[] }
  | {
      acked: false;
      /**
       * `plain-client`: sent to a client that never answers (dioxus-devtools): delivered as far
       * as anyone can know. Every other outcome means the patch may not be live.
       */
      outcome: 'plain-client' | 'send-failed' | 'no-answer' | 'disconnected' | 'closed';
      reason: string;
    };

export interface SendPatchOptions {
  msElapsed: number;
  /** The runtime `main` address the patch's stub was built against. */
  expectedAslrReference: number;
  ackTimeoutMs: number;
  /**
   * Entry-detour data, sent right before the HotReload frame to subsecond-agent clients only
   * (plain dx-compatible clients get the unchanged HotReload frame and nothing else).
   */
  detourPlan?: DetourPlanMessage;
  /**
   * Types whose HotState values the agent must migrate with this patch (`MigrateState`, sent
   * right before the HotReload frame). Only a subsecond-agent that reported these types can: the
   * patch is refused for any other client.
   */
  migrate?: string[];
}

export interface DevServerEvents {
  'app-connected': [app: AppConnection];
  'app-disconnected': [app: AppConnection];
  'protocol-error': [message: string];
  'agent-message': [app: AppConnection, msg: AgentMessage];
  /** A connection that gets nothing (impostor, unattributable, unservable agent): the user must hear of it. */
  'refused-connection': [message: string];
}

/** Agent frames are tiny; anything bigger is a misbehaving client, cut off by ws with close code 1009. */
const MAX_CLIENT_FRAME = 1024 * 1024;
const PATH = '/_dioxus';

interface AckWaiter {
  lib: string;
  settle: (d: PatchDelivery) => void;
}

interface Client {
  info: AppConnection;
  socket: WebSocket;
  waiters: AckWaiter[];
  /** The claimed pid is proven (socket held by that process, or the launch secret). */
  attributed: boolean;
  /** Proven by the launch secret alone (/proc could not tell): a connection the process itself holds is preferred. */
  bySecret?: boolean;
  /** Why this connection gets nothing; set once, then it is closed. */
  refused?: string;
}

export class DevServer extends EventEmitter<DevServerEvents> {
  readonly host: string;
  readonly port: number;
  private readonly clients = new Map<number, Client>();
  private nextId = 1;
  private closing = false;
  private closed: Promise<void> | undefined;
  /** 'closing' and 'drained', kept off the public event list. */
  private readonly lifecycle = new EventEmitter();
  /** Secrets handed to launched apps, by pid. */
  private readonly launches = new Map<number, string>();
  /** Where the engine writes patch libraries for the next launch: its probe goes there. */
  private patchDir: string | undefined;
  /** The probe written for each launch, by its secret. */
  private readonly probes = new Map<string, LaunchProbe>();

  private constructor(
    private readonly http: http.Server,
    private readonly wss: WebSocketServer,
    host: string,
    port: number,
    private readonly peerCheck: PeerCheck,
  ) {
    super();
    this.host = host;
    this.port = port;
  }

  /**
   * Records the secret a launched app was given: that pid's agent must present it in its Hello.
   * Call right after spawning (before the event loop runs again, so before it can connect).
   */
  expectLaunch(pid: number, secret: string): void {
    this.launches.set(pid, secret);
  }

  /**
   * Where patch libraries for the apps launched from now on are written. Each launch then gets a
   * probe file there (see `patch-library.ts`): an agent that cannot read it is sent the bytes.
   */
  setPatchDirectory(dir: string | undefined): void {
    this.patchDir = dir;
  }

  /** Writes the probe of the launch with this secret; its environment entry (none without a patch dir). */
  launchProbeEnv(secret: string): Record<string, string> {
    if (this.patchDir === undefined) return {};
    try {
      const probe = writeLaunchProbe(this.patchDir);
      this.probes.set(secret, probe);
      return { [PROBE_ENV]: probe.path };
    } catch (err) {
      // Without a probe the app gets paths, as before: it may still read them.
      this.emit('protocol-error', `cannot write the launch probe in ${this.patchDir}: ${(err as Error).message}; patch libraries go by path`);
      return {};
    }
  }

  /** The launched pid whose secret this is, compared in constant time. */
  private launchWithSecret(secret: string): number | undefined {
    const given = Buffer.from(secret);
    let found: number | undefined;
    for (const [pid, s] of this.launches) {
      const expected = Buffer.from(s);
      if (expected.length === given.length && timingSafeEqual(expected, given)) found = pid;
    }
    return found;
  }

  /** Binds 127.0.0.1 unless `host` names another address; port 0 (the default) picks a free port. */
  static listen(options: ListenOptions = {}): Promise<DevServer> {
    const host = options.host ?? '127.0.0.1';
    const httpServer = http.createServer((req, res) => {
      // Plain HTTP on the socket path is a client that forgot to upgrade; anything else is unknown.
      const path = requestPath(req);
      res.writeHead(path === PATH ? 426 : 404, { 'Content-Type': 'text/plain', Connection: 'close' });
      res.end(path === PATH ? 'WebSocket upgrade required\n' : 'Not found\n');
    });
    const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_FRAME, perMessageDeflate: false });
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      httpServer.once('error', onError);
      httpServer.listen(options.port ?? 0, host, () => {
        httpServer.off('error', onError);
        const address = httpServer.address();
        const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
        const server = new DevServer(httpServer, wss, host, port, options.peerCheck ?? procPeerCheck);
        httpServer.on('upgrade', (req, socket, head) => server.onUpgrade(req, socket, head));
        // A listening server has nothing useful to do with its own errors but report them.
        httpServer.on('error', (err) => server.emit('protocol-error', `devserver error: ${err.message}`));
        resolve(server);
      });
    });
  }

  /** Live connection records (they update when an agent says Hello). */
  apps(): AppConnection[] {
    return this.trusted().map((c) => c.info);
  }

  /** Connections proven to be the process they claim, and not refused. */
  private trusted(): Client[] {
    return [...this.clients.values()].filter((c) => c.attributed && !c.refused);
  }

  /** The newest connection of that process, if any. */
  appForPid(pid: number): AppConnection | undefined {
    return this.newestClient(pid)?.info;
  }

  /**
   * Resolves when an app with this pid is connected (at once if it already is); rejects with a
   * clear Error after `timeoutMs`. The agent's Hello follows the handshake by one round trip, so
   * right after connecting `isAgent` may still be false:
   * - `{ agent: true }` also waits for the Hello (an app without the agent then times out);
   * - `{ helloGraceMs: n }` waits up to n ms more for a Hello, then resolves either way, for
   *   callers that want an accurate `isAgent` without knowing what the app runs.
   */
  async waitForApp(
    pid: number,
    timeoutMs: number,
    options: { agent?: boolean; helloGraceMs?: number } = {},
  ): Promise<AppConnection> {
    const app = await this.waitForConnection(pid, timeoutMs, options.agent ?? false);
    if (app.isAgent || !options.helloGraceMs) return app;
    return this.waitForConnection(pid, options.helloGraceMs, true).catch(() => app);
  }

  private waitForConnection(pid: number, timeoutMs: number, agent: boolean): Promise<AppConnection> {
    const ready = (): AppConnection | undefined => {
      const app = this.appForPid(pid);
      return app && (!agent || app.isAgent) ? app : undefined;
    };
    const now = ready();
    if (now) return Promise.resolve(now);
    if (this.closing) return Promise.reject(new Error('devserver is closed'));
    return new Promise((resolve, reject) => {
      const check = () => {
        const app = ready();
        if (app) finish(() => resolve(app));
      };
      const onClose = () => finish(() => reject(new Error(`devserver closed while waiting for app pid ${pid}`)));
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(
              new Error(
                `app pid ${pid} did not ${agent ? 'connect and say Hello' : 'connect'} to the devserver ` +
                  `at ws://${this.host}:${this.port}${PATH} within ${timeoutMs} ms`,
              ),
            ),
          ),
        timeoutMs,
      );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.off('app-connected', check);
        this.off('agent-message', check);
        this.lifecycle.off('closing', onClose);
        settle();
      };
      this.on('app-connected', check);
      this.on('agent-message', check);
      this.lifecycle.on('closing', onClose);
    });
  }

  /**
   * Sends a jump table to the one connection of `pid` whose reported aslr_reference equals the one
   * the patch was built against. Rejects (and sends nothing) when there is no such connection or
   * the table is malformed. For agent connections it waits for the matching PatchResult.
   */
  sendPatch(pid: number, table: JumpTable, opts: SendPatchOptions): Promise<PatchDelivery> {
    if (this.closing) return Promise.reject(new Error('devserver is closed'));
    const problem = validateJumpTable(table);
    if (problem) return Promise.reject(new Error(`refusing to send patch: ${problem}`));
    const candidates = this.trusted().filter((c) => c.info.pid === pid && isOpen(c.socket));
    if (candidates.length === 0) {
      const refused = [...this.clients.values()].find((c) => c.info.pid === pid && c.refused);
      return Promise.reject(
        new Error(`refusing to send patch: no app with pid ${pid} is connected${refused ? ` (${refused.refused})` : ''}`),
      );
    }
    const matching = candidates.filter((c) => c.info.aslrReference === opts.expectedAslrReference);
    // A connection the launched process itself holds beats one proven only by the secret (which
    // anything that read the app's environment could present); then the newest wins.
    const held = matching.filter((c) => !c.bySecret);
    const preferred = held.length > 0 ? held : matching;
    const target = preferred[preferred.length - 1]; // newest: Map keeps insertion (= id) order
    if (!target) {
      const reported = candidates.map((c) => (c.info.aslrReference === undefined ? 'none' : String(c.info.aslrReference)));
      return Promise.reject(
        new Error(
          `refusing to send patch: app pid ${pid} reported aslr_reference ${reported.join(', ')} but the patch was ` +
            `built for ${opts.expectedAslrReference} (a different process image; the app must be rebuilt against its current run)`,
        ),
      );
    }

    if (opts.migrate) {
      const held = target.info.hotStateTypes ?? [];
      const missing = opts.migrate.filter((t) => !held.includes(t));
      if (!target.info.isAgent || missing.length > 0) {
        return Promise.reject(
          new Error(`refusing to send patch: it migrates ${missing.join(', ') || opts.migrate.join(', ')}, which app pid ${pid} did not report as HotState types`),
        );
      }
    }
    const frame = encodeHotReload(table, opts.msElapsed, target.info.buildId, target.info.appPid ?? pid);
    // An app that cannot read our files gets the library itself first (subsecond-agent only).
    let library: Buffer | undefined;
    if (target.info.isAgent && target.info.patchLibraries === 'bytes') {
      const read = readPatchLibrary(table.lib);
      if ('problem' in read) return Promise.reject(new Error(`refusing to send patch: ${read.problem}`));
      library = read.bytes;
    }
    return new Promise<PatchDelivery>((resolve) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const settle = (d: PatchDelivery) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        target.waiters = target.waiters.filter((w) => w !== waiter);
        resolve(d);
      };
      const waiter: AckWaiter = { lib: table.lib, settle };
      // Registered before sending: a fast agent may answer before the send callback runs.
      if (target.info.isAgent) {
        target.waiters.push(waiter);
        timer = setTimeout(
          () => settle({ acked: false, outcome: 'no-answer', reason: `app pid ${pid} did not report a result within ${opts.ackTimeoutMs} ms` }),
          opts.ackTimeoutMs,
        );
      }
      if (library) {
        target.socket.send(encodePatchLibrary(table.lib, library.length));
        for (const chunk of chunks(library)) target.socket.send(chunk, { binary: true });
      }
      if (opts.detourPlan && target.info.isAgent) target.socket.send(encodeDetourPlan(table, opts.detourPlan));
      if (opts.migrate) target.socket.send(encodeMigrateState(table, opts.migrate));
      target.socket.send(frame, (err) => {
        if (err) {
          settle({ acked: false, outcome: 'send-failed', reason: `sending the patch to app pid ${pid} failed: ${err.message}` });
        } else if (!target.info.isAgent) {
          settle({
            acked: false,
            outcome: 'plain-client',
            reason: `app pid ${pid} does not run subsecond-agent reporting (plain dioxus-devtools client): delivered, not confirmed`,
          });
        }
      });
    });
  }

  /**
   * Tells the app `pid` that asset files changed (a HotReload frame with only `assets`). True if
   * a frame was handed to a connection of that process; the app does not answer it.
   */
  sendAssetReload(pid: number, assets: string[]): boolean {
    const target = this.newestClient(pid);
    if (!target || !isOpen(target.socket) || this.closing) return false;
    target.socket.send(encodeAssetReload(assets));
    return true;
  }

  /**
   * Sends rsx! templates to the app's newest connection (a Dioxus devtools client applies them;
   * it does not answer). False when the app is not connected.
   */
  sendTemplateReload(pid: number, templates: unknown[]): boolean {
    const target = this.newestClient(pid);
    if (!target || !isOpen(target.socket) || this.closing) return false;
    target.socket.send(encodeTemplateReload(templates));
    return true;
  }

  /** Sends a bare command to every connected app, as dx does. */
  broadcast(message: DevserverCommand): void {
    const frame = encodeCommand(message);
    for (const c of this.trusted()) {
      if (isOpen(c.socket)) c.socket.send(frame);
    }
  }

  /** Closes every app connection (apps with the agent will try to reconnect) and stops listening. */
  close(): Promise<void> {
    if (this.closed) return this.closed;
    this.closing = true;
    this.lifecycle.emit('closing');
    this.closed = new Promise<void>((resolve) => {
      for (const c of this.clients.values()) {
        for (const w of [...c.waiters]) w.settle({ acked: false, outcome: 'closed', reason: 'devserver closed before the app reported a result' });
        c.socket.close(1001, 'devserver closing');
      }
      // Apps that do not answer the close handshake promptly are cut off.
      const force = setTimeout(() => {
        for (const c of this.clients.values()) c.socket.terminate();
      }, 500);
      const done = () => {
        clearTimeout(force);
        this.wss.close(() => {
          this.http.close(() => resolve());
          this.http.closeAllConnections();
        });
      };
      if (this.clients.size === 0) done();
      else this.lifecycle.once('drained', done);
    });
    return this.closed;
  }

  /** The newest connection of that process, one it holds itself before one proven by the secret alone. */
  private newestClient(pid: number): Client | undefined {
    let found: Client | undefined;
    for (const c of this.trusted()) if (c.info.pid === pid && (!found || !c.bySecret || found.bySecret)) found = c;
    return found;
  }

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy()); // a client vanishing mid-handshake is not our problem
    const path = requestPath(req);
    if (this.closing || path !== PATH) {
      const status = this.closing ? '503 Service Unavailable' : '404 Not Found';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      if (!this.closing) this.emit('protocol-error', `rejected WebSocket upgrade for unknown path ${path}`);
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const peer: Peer = {
      port: req.socket.remotePort,
      address: req.socket.remoteAddress,
      loopback: isLoopback(req.socket.remoteAddress),
      secret: typeof req.headers[SECRET_HEADER] === 'string' ? (req.headers[SECRET_HEADER] as string) : undefined,
    };
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, parseConnectQuery(url.searchParams), peer));
  }

  /** Gives a connection nothing from now on, tells the user why, and closes it. */
  private refuse(client: Client, reason: string): void {
    if (client.refused) return;
    client.refused = reason;
    for (const w of [...client.waiters]) w.settle({ acked: false, outcome: 'disconnected', reason });
    this.emit('refused-connection', reason);
    client.socket.close(1008, 'not served by this devserver');
  }

  private onConnection(socket: WebSocket, query: ReturnType<typeof parseConnectQuery>, peer: Peer): void {
    if (this.closing) {
      socket.terminate(); // the upgrade raced with close()
      return;
    }
    const info: AppConnection = {
      id: this.nextId++,
      pid: query.pid,
      aslrReference: query.aslrReference,
      buildId: query.buildId,
      isAgent: false,
      patchLibraries: 'path',
      connectedAt: Date.now(),
    };
    const client: Client = { info, socket, waiters: [], attributed: false };
    this.clients.set(info.id, client);
    if (query.problems.length > 0) {
      this.emit(
        'protocol-error',
        `app connection #${info.id} (pid ${info.pid ?? 'unknown'}) has a bad handshake: ${query.problems.join('; ')}; ` +
          `it cannot receive patches`,
      );
    }
    // Attribution: is the claimed process really on the other end? (/proc knows local peers only.)
    const held =
      info.pid === undefined ? false : peer.loopback && peer.port !== undefined ? this.peerCheck(info.pid, this.port, peer.port) : false;
    const launched = held !== true && info.pid !== undefined && peer.secret !== undefined ? this.launchWithSecret(peer.secret) : undefined;
    if (held === true) client.attributed = true;
    else if (launched !== undefined) {
      // The secret authenticates it: it is that launch's app, whatever pid it has where it runs.
      client.attributed = true;
      client.bySecret = true;
      if (launched !== info.pid) {
        info.appPid = info.pid;
        info.pid = launched;
      }
    } else if (held === false) {
      const where = peer.loopback ? 'a local connection' : `a connection from ${peer.address ?? 'an unknown address'}`;
      this.refuse(
        client,
        info.pid === undefined
          ? `${where} (#${info.id}) did not say which process it is: it gets no patches`
          : peer.secret !== undefined
            ? `${where} (#${info.id}) claims to be pid ${info.pid} with a launch secret that matches no launched app: it gets no patches`
            : peer.loopback
              ? `a local connection (#${info.id}) claims to be pid ${info.pid}, but that process does not hold its socket ` +
                `(another program posing as the app?) and it presented no launch secret: it gets no patches`
              : `${where} (#${info.id}) claims to be pid ${info.pid} without a launch secret: it gets no patches`,
      );
    }
    // held === undefined (no /proc): an agent's Hello with its launch secret attributes it.

    socket.on('message', (data: RawData, isBinary: boolean) => this.onFrame(client, data, isBinary));
    socket.on('error', (err) => {
      // ws reports oversized or invalid frames here and then closes the connection.
      this.emit('protocol-error', `app connection #${info.id} (pid ${info.pid ?? 'unknown'}): ${err.message}`);
    });
    socket.on('close', () => {
      this.clients.delete(info.id);
      for (const w of [...client.waiters]) {
        w.settle({ acked: false, outcome: 'disconnected', reason: `app pid ${info.pid ?? 'unknown'} disconnected before reporting a result` });
      }
      if (client.attributed && !client.refused) this.emit('app-disconnected', info);
      if (this.closing && this.clients.size === 0) this.lifecycle.emit('drained');
    });
    if (client.attributed && !client.refused) this.emit('app-connected', info);
  }

  /** Checks an agent's Hello: version, then the launch secret. Returns whether the connection may be served. */
  private acceptHello(client: Client, msg: Extract<AgentMessage, { type: 'Hello' }>): boolean {
    const versionProblem = agentVersionProblem(msg.agentVersion);
    if (versionProblem) {
      this.refuse(client, `app pid ${client.info.pid ?? 'unknown'}: ${versionProblem}`);
      return false;
    }
    const pid = client.info.pid;
    const expected = pid !== undefined ? this.launches.get(pid) : undefined;
    if (expected !== undefined && msg.secret !== expected) {
      this.refuse(
        client,
        `a local connection (#${client.info.id}) claiming to be app pid ${pid} ${msg.secret === undefined ? 'did not present' : 'presented a wrong'} ` +
          `launch secret: it gets no patches`,
      );
      return false;
    }
    if (!client.attributed) {
      // No /proc: the secret is the only proof; without a launch to match it, nothing is proven.
      if (expected === undefined) {
        this.refuse(client, `a local connection (#${client.info.id}) claiming pid ${pid ?? 'unknown'} cannot be attributed to a launched app: it gets no patches`);
        return false;
      }
      client.attributed = true;
      client.bySecret = true;
      this.decideDelivery(client, msg, expected);
      this.emit('app-connected', client.info);
      return true;
    }
    this.decideDelivery(client, msg, expected);
    return true;
  }

  /** Paths or bytes for this agent, from what it read of its launch's probe. */
  private decideDelivery(client: Client, msg: Extract<AgentMessage, { type: 'Hello' }>, secret: string | undefined): void {
    // An app launched in a terminal is registered when its wrapper reports the pid, which its
    // Hello may overtake: the secret it presents then names its launch's probe.
    const presented = secret ?? msg.secret;
    const probe = presented !== undefined ? this.probes.get(presented) : undefined;
    const { delivery, why } = chooseDelivery(msg.probe, probe);
    client.info.patchLibraries = delivery;
    client.info.patchLibrariesWhy = why;
  }

  private onFrame(client: Client, data: RawData, isBinary: boolean): void {
    const who = `app connection #${client.info.id} (pid ${client.info.pid ?? 'unknown'})`;
    if (isBinary) {
      this.emit('protocol-error', `${who} sent a binary frame; ignored`);
      return;
    }
    const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    const text = buf.toString('utf8');
    const frame = parseClientFrame(text);
    if (frame.kind === 'log') return;
    if (frame.kind === 'invalid') {
      this.emit('protocol-error', `${who}: ${frame.reason}`);
      return;
    }
    const msg = frame.message;
    if (client.refused) return;
    if (msg.type === 'Hello') {
      if (!this.acceptHello(client, msg)) return;
    } else if (!client.attributed) {
      return; // results count only from a proven connection
    }
    if (msg.pid !== (client.info.appPid ?? client.info.pid)) {
      this.emit('protocol-error', `${who} sent ${msg.type} claiming pid ${msg.pid}`);
    }
    if (msg.type === 'Hello') {
      client.info.isAgent = true;
    } else if (msg.type === 'HotStateTypes') {
      client.info.hotStateTypes = msg.types;
    } else {
      // A result proves an agent even if its Hello got lost.
      client.info.isAgent = true;
      const waiter = client.waiters.find((w) => w.lib === msg.lib);
      const delivery: PatchDelivery = { acked: true, ok: msg.ok, error: msg.error, applyMicros: msg.applyMicros, entries: msg.entries };
      if (msg.detours) delivery.detours = msg.detours;
      if (msg.migrated) delivery.migrated = msg.migrated;
      waiter?.settle(delivery);
    }
    this.emit('agent-message', client.info, msg);
  }
}

/**
 * The environment that points an app at this devserver (what dx sets, plus SUBSECOND_LSP=1 for
 * agent reports). With a launch secret it also writes that launch's probe (`launchProbeEnv`).
 */
export function devserverEnv(server: DevServer, launchSecret?: string): Record<string, string> {
  const env: Record<string, string> = {
    // A wildcard bind is reached locally (or through a tunnel) at loopback.
    DIOXUS_DEVSERVER_IP: server.host === '0.0.0.0' || server.host === '::' ? '127.0.0.1' : server.host,
    DIOXUS_DEVSERVER_PORT: String(server.port),
    DIOXUS_BUILD_ID: '0',
    DIOXUS_CLI_ENABLED: 'true',
    SUBSECOND_LSP: '1',
  };
  if (launchSecret !== undefined) Object.assign(env, { [LAUNCH_SECRET_ENV]: launchSecret }, server.launchProbeEnv(launchSecret));
  return env;
}

/** What the handshake tells about the other end. */
interface Peer {
  /** Its TCP port (the client end). */
  port: number | undefined;
  address: string | undefined;
  /** On this machine's loopback: /proc can say which process holds it. */
  loopback: boolean;
  /** The launch secret it presented in the handshake, if any. */
  secret: string | undefined;
}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}

function requestPath(req: http.IncomingMessage): string {
  try {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    // axum's nested "/" route answers both spellings.
    return path === `${PATH}/` ? PATH : path;
  } catch {
    return '';
  }
}

function isOpen(socket: WebSocket): boolean {
  return socket.readyState === WebSocket.OPEN;
}
