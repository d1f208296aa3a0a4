// How a patch library reaches an app: by path (the app dlopens our file, as with dx) or as bytes
// over its connection, for an app that cannot read our files (another machine, a container, a
// runner that hides target/). Which one is decided from what the agent reports at Hello: it reads
// a probe file we wrote beside the patch libraries, and an app that cannot read it (or reads
// something else there) gets bytes. Nothing here touches sockets.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Environment variable naming the probe file of a launch. */
export const PROBE_ENV = 'SUBSECOND_LSP_PROBE';

/**
 * The largest patch library sent as bytes. Patch libraries are tens to hundreds of KB, a Bevy
 * patch a few MB; anything near this is not a patch of a running app. The agent has the same bound.
 */
export const MAX_PATCH_LIBRARY_BYTES = 128 * 1024 * 1024;

/** Bytes per binary frame: small frames keep every WebSocket implementation's frame limit far away. */
export const PATCH_LIBRARY_CHUNK_BYTES = 1024 * 1024;

/** A launch's probe: a file holding a random token the app's agent reads and reports at Hello. */
export interface LaunchProbe {
  path: string;
  token: string;
}

/** How patch libraries reach one app connection. */
export type PatchLibraryDelivery = 'path' | 'bytes';

/**
 * Writes a new probe into `dir` (where the patch libraries are written) and removes the probes of
 * earlier launches: only one app per session dir runs at a time. Throws when the dir is unwritable.
 */
export function writeLaunchProbe(dir: string): LaunchProbe {
  fs.mkdirSync(dir, { recursive: true });
  for (const old of fs.readdirSync(dir)) {
    if (old.startsWith('.probe-')) fs.rmSync(path.join(dir, old), { force: true });
  }
  const token = randomBytes(16).toString('hex');
  const file = path.join(dir, `.probe-${token.slice(0, 12)}`);
  fs.writeFileSync(file, token, { mode: 0o644 });
  return { path: file, token };
}

/**
 * Paths or bytes, from the probe text an agent reported (`undefined`: an agent that predates
 * bytes, which only takes paths; `null`: it could not read the probe), and why, for the log.
 * Without a probe of ours (the launch had none) nothing is known and paths stay, as before.
 */
export function chooseDelivery(
  reported: string | null | undefined,
  probe: LaunchProbe | undefined,
): { delivery: PatchLibraryDelivery; why: string } {
  if (probe === undefined) return { delivery: 'path', why: 'it was launched without a probe, so only paths are tried' };
  const dir = path.dirname(probe.path);
  if (reported === undefined) return { delivery: 'path', why: `its subsecond-agent does not report whether it reads ${dir} (it predates patch libraries sent as bytes)` };
  if (reported === probe.token) return { delivery: 'path', why: `its agent read this launch's probe in ${dir}` };
  return {
    delivery: 'bytes',
    why:
      reported === null
        ? `its agent cannot read ${dir} (the app runs on another machine, in a container or under a runner that hides this directory)`
        : `its agent reads a different ${probe.path} than this server wrote (another machine or file system)`,
  };
}

/** The library's bytes to send, or why they cannot be sent. */
export function readPatchLibrary(lib: string): { bytes: Buffer } | { problem: string } {
  let size: number;
  try {
    size = fs.statSync(lib).size;
  } catch (err) {
    return { problem: `cannot read the patch library ${lib}: ${(err as Error).message}` };
  }
  if (size === 0) return { problem: `the patch library ${lib} is empty` };
  if (size > MAX_PATCH_LIBRARY_BYTES) {
    return {
      problem: `the patch library ${lib} is ${(size / 1048576).toFixed(1)} MB, more than the ${MAX_PATCH_LIBRARY_BYTES / 1048576} MB that are sent over a connection`,
    };
  }
  try {
    return { bytes: fs.readFileSync(lib) };
  } catch (err) {
    return { problem: `cannot read the patch library ${lib}: ${(err as Error).message}` };
  }
}

/** The binary frames carrying `bytes`, in order. */
export function chunks(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += PATCH_LIBRARY_CHUNK_BYTES) out.push(bytes.subarray(at, at + PATCH_LIBRARY_CHUNK_BYTES));
  return out;
}
