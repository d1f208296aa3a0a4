// Whether the kernel runs another architecture's executables itself: binfmt_misc entries
// (`/proc/sys/fs/binfmt_misc/<name>`, e.g. qemu-user-static's `qemu-aarch64`) hand an ELF whose
// header matches their magic/mask to an interpreter, so `exec` of an aarch64 binary works on an
// x86_64 machine without a runner. Read, never written; the directory is a parameter so the
// decision can be tested with a fake one.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const BINFMT_DIR = '/proc/sys/fs/binfmt_misc';

/** An enabled binfmt_misc entry that takes executables of the asked architecture. */
export interface BinfmtHandler {
  /** The entry's name (the file under the binfmt_misc directory). */
  name: string;
  /** The program the kernel runs the executable with, e.g. /usr/bin/qemu-aarch64-static. */
  interpreter: string;
  flags: string;
}

const ELF_MACHINE: Record<string, number> = { x86_64: 62, aarch64: 183 };

/**
 * The header of a little-endian 64-bit position-independent Linux executable for `arch` (what
 * rustc links for the GNU targets), as far as binfmt_misc entries look at it.
 */
function sampleElfHeader(arch: string): Buffer | undefined {
  const machine = ELF_MACHINE[arch];
  if (machine === undefined) return undefined;
  const h = Buffer.alloc(64);
  h.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
  h.writeUInt16LE(3, 16); // ET_DYN (PIE)
  h.writeUInt16LE(machine, 18);
  h.writeUInt32LE(1, 20);
  return h;
}

/** The enabled entry that would run an `arch` executable, if any; undefined when binfmt_misc is absent or off. */
export function binfmtHandlerFor(arch: string, dir: string = BINFMT_DIR): BinfmtHandler | undefined {
  const header = sampleElfHeader(arch);
  if (!header) return undefined;
  let names: string[];
  try {
    if (fs.readFileSync(path.join(dir, 'status'), 'utf8').trim() !== 'enabled') return undefined;
    names = fs.readdirSync(dir).filter((n) => n !== 'status' && n !== 'register').sort();
  } catch {
    return undefined;
  }
  for (const name of names) {
    let text: string;
    try {
      text = fs.readFileSync(path.join(dir, name), 'utf8');
    } catch {
      continue;
    }
    const entry = parseEntry(text);
    if (!entry || !entry.enabled || !entry.magic) continue;
    if (!matches(header, entry.offset, entry.magic, entry.mask)) continue;
    // Without F (fix binary) the kernel opens the interpreter at exec time, in the caller's
    // mount namespace: it must exist there.
    if (!entry.flags.includes('F') && !fs.existsSync(entry.interpreter)) continue;
    return { name, interpreter: entry.interpreter, flags: entry.flags };
  }
  return undefined;
}

interface Entry {
  enabled: boolean;
  interpreter: string;
  flags: string;
  offset: number;
  magic?: Buffer;
  mask?: Buffer;
}

/** One entry file: `enabled`, `interpreter …`, `flags: …`, `offset N`, `magic <hex>`, `mask <hex>` (extension entries have no magic). */
function parseEntry(text: string): Entry | undefined {
  const lines = text.split('\n').map((l) => l.trim());
  const value = (key: string) => lines.find((l) => l.startsWith(`${key} `) || l === key)?.slice(key.length).trim();
  const interpreter = value('interpreter');
  if (!interpreter) return undefined;
  const hex = (s: string | undefined) => (s && /^([0-9a-f]{2})+$/i.test(s) ? Buffer.from(s, 'hex') : undefined);
  return {
    enabled: lines[0] === 'enabled',
    interpreter,
    flags: value('flags:') ?? '',
    offset: Number(value('offset') ?? '0') || 0,
    magic: hex(value('magic')),
    mask: hex(value('mask')),
  };
}

function matches(header: Buffer, offset: number, magic: Buffer, mask: Buffer | undefined): boolean {
  if (offset + magic.length > header.length) return false;
  for (let i = 0; i < magic.length; i++) {
    const m = mask && i < mask.length ? mask[i] : 0xff;
    if ((header[offset + i] & m) !== (magic[i] & m)) return false;
  }
  return true;
}

/** How a binfmt handler is named to the user: `binfmt_misc (qemu-aarch64-static)`. */
export function describeBinfmt(h: BinfmtHandler): string {
  return `binfmt_misc (${path.basename(h.interpreter)})`;
}

const LOADER: Record<string, string> = { x86_64: '/lib64/ld-linux-x86-64.so.2', aarch64: '/lib/ld-linux-aarch64.so.1' };

/**
 * A qemu-user interpreter finds a dynamically linked app's loader (and libc) under
 * `QEMU_LD_PREFIX`, else at its own path: undefined when it is there, else what is missing.
 * Other interpreters are trusted as they are.
 */
export function binfmtLoaderProblem(h: BinfmtHandler, arch: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!path.basename(h.interpreter).startsWith('qemu-')) return undefined;
  const loader = LOADER[arch];
  if (!loader) return undefined;
  const prefix = env.QEMU_LD_PREFIX;
  const where = prefix ? path.join(prefix, loader) : loader;
  if (fs.existsSync(where)) return undefined;
  return prefix ? `QEMU_LD_PREFIX=${prefix} has no ${loader}` : `${loader} is not installed and QEMU_LD_PREFIX is not set`;
}
