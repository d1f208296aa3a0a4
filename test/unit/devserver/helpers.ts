// Test helpers for the devserver: a fake app built on a real `ws` client.
import { WebSocket } from 'ws';
import type { DevServer } from '../../../server/src/devserver';

export interface FakeApp {
  ws: WebSocket;
  /** Next text frame from the server (frames are queued, none is lost). */
  next(): Promise<string>;
  /** Resolves with the close code when the server closes the connection. */
  closed: Promise<number>;
  send(obj: unknown): void;
}

export function url(server: DevServer, pathAndQuery: string): string {
  return `ws://${server.host}:${server.port}${pathAndQuery}`;
}

export function query(pid: number, aslr: number, buildId = 0): string {
  return `/_dioxus?aslr_reference=${aslr}&build_id=${buildId}&pid=${pid}`;
}

/** Connects and resolves once the handshake is complete. */
export function connectApp(server: DevServer, pathAndQuery: string): Promise<FakeApp> {
  const ws = new WebSocket(url(server, pathAndQuery));
  const queue: string[] = [];
  const waiting: ((s: string) => void)[] = [];
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const text = data.toString();
    const w = waiting.shift();
    if (w) w(text);
    else queue.push(text);
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => {
      ws.off('error', reject);
      ws.on('error', () => undefined); // e.g. the server cutting off an oversized frame
      resolve({
        ws,
        closed,
        next: () => {
          const t = queue.shift();
          return t !== undefined ? Promise.resolve(t) : new Promise((r) => waiting.push(r));
        },
        send: (obj) => ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj)),
      });
    });
  });
}

/** Connects an app and waits until the server has registered it. */
export async function connectRegistered(server: DevServer, pid: number, aslr: number): Promise<FakeApp> {
  const registered = server.waitForApp(pid, 5000);
  const app = await connectApp(server, query(pid, aslr));
  await registered;
  return app;
}

export async function connectAgent(server: DevServer, pid: number, aslr: number): Promise<FakeApp> {
  const app = await connectRegistered(server, pid, aslr);
  app.send({ SubsecondAgent: { Hello: { pid, agent_version: '0.1.0' } } });
  await server.waitForApp(pid, 5000, { agent: true });
  return app;
}

export function nextEvent<T extends unknown[]>(emitter: DevServer, name: string): Promise<T> {
  return new Promise((resolve) => emitter.once(name as 'protocol-error', (...args: unknown[]) => resolve(args as T)));
}

export function table(lib: string): {
  lib: string;
  map: Record<string, number>;
  aslr_reference: number;
  new_base_address: number;
  ifunc_count: number;
} {
  return {
    lib,
    map: { '4198400': 12288, '93824992235520': 140737353000000 },
    aslr_reference: 4198000,
    new_base_address: 4096,
    ifunc_count: 0,
  };
}
