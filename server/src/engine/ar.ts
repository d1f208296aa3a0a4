// engine/ar.ts — reads Unix `ar` archives (rlibs are GNU-format ar files).
//
// Used to take a workspace crate's freshly built objects out of its rlib without spawning `ar x`
// per patch, and by the fat-link shim to decide which rlibs are safe to force whole. Handles GNU
// long names (`//` table, `/N` references), BSD `#1/N` names, and skips the symbol tables.
// Thin archives (`!<thin>`) are not used by rustc and are rejected.
//
// Never imports the LSP library or the devserver.
import * as fs from 'node:fs';

export interface ArMember {
  name: string;
  /** Offset of the member's data in the archive. */
  offset: number;
  size: number;
}

export class ArError extends Error {}

const MAGIC = '!<arch>\n';

/** Lists the real members of an archive (symbol tables and the long-name table left out). */
export function listArchive(buf: Buffer, label = '<archive>'): ArMember[] {
  if (buf.length < 8 || buf.toString('latin1', 0, 8) !== MAGIC) {
    if (buf.toString('latin1', 0, 8) === '!<thin>\n') throw new ArError(`${label}: thin archives are not supported`);
    throw new ArError(`${label}: not an ar archive`);
  }
  const out: ArMember[] = [];
  let longNames: Buffer | undefined;
  let pos = 8;
  while (pos + 60 <= buf.length) {
    const rawName = buf.toString('latin1', pos, pos + 16);
    const size = parseInt(buf.toString('latin1', pos + 48, pos + 58).trim(), 10);
    if (buf[pos + 58] !== 0x60 || buf[pos + 59] !== 0x0a || !Number.isFinite(size)) throw new ArError(`${label}: corrupt member header at ${pos}`);
    let dataOff = pos + 60;
    let dataSize = size;
    const trimmed = rawName.trimEnd();
    let name: string | undefined;
    if (trimmed === '/' || trimmed === '/SYM64/' || trimmed === '__.SYMDEF' || trimmed === '__.SYMDEF SORTED') {
      name = undefined; // symbol index
    } else if (trimmed === '//') {
      longNames = buf.subarray(dataOff, dataOff + size);
      name = undefined;
    } else if (/^\/\d+$/.test(trimmed)) {
      if (!longNames) throw new ArError(`${label}: long name reference without a name table`);
      const off = parseInt(trimmed.slice(1), 10);
      let end = off;
      while (end < longNames.length && longNames[end] !== 0x0a) end++;
      name = longNames.toString('latin1', off, end).replace(/\/$/, '');
    } else if (trimmed.startsWith('#1/')) {
      const n = parseInt(trimmed.slice(3), 10);
      name = buf.toString('latin1', dataOff, dataOff + n).replace(/\0+$/, '');
      dataOff += n;
      dataSize -= n;
    } else {
      name = trimmed.endsWith('/') ? trimmed.slice(0, -1) : trimmed;
    }
    if (dataOff + dataSize > buf.length) throw new ArError(`${label}: member ${name ?? '?'} runs past the end`);
    if (name !== undefined) out.push({ name, offset: dataOff, size: dataSize });
    pos = pos + 60 + size + (size & 1);
  }
  return out;
}

/** Reads an archive from disk and returns its members with their bytes. */
export function readArchive(path: string): Array<ArMember & { data: Buffer }> {
  const buf = fs.readFileSync(path);
  return listArchive(buf, path).map((m) => ({ ...m, data: buf.subarray(m.offset, m.offset + m.size) }));
}

/**
 * Lists member names of an archive on disk by reading only the member headers (and the long-name
 * table): the fat-link shim checks dozens of rlibs and must not read them whole.
 */
export function listArchiveFile(path: string): string[] {
  const fd = fs.openSync(path, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const hdr = Buffer.alloc(60);
    const magic = Buffer.alloc(8);
    fs.readSync(fd, magic, 0, 8, 0);
    if (magic.toString('latin1') !== MAGIC) throw new ArError(`${path}: not an ar archive`);
    const names: string[] = [];
    let longNames: Buffer | undefined;
    let pos = 8;
    while (pos + 60 <= size) {
      if (fs.readSync(fd, hdr, 0, 60, pos) !== 60) break;
      const raw = hdr.toString('latin1', 0, 16).trimEnd();
      const len = parseInt(hdr.toString('latin1', 48, 58).trim(), 10);
      if (hdr[58] !== 0x60 || hdr[59] !== 0x0a || !Number.isFinite(len)) throw new ArError(`${path}: corrupt member header at ${pos}`);
      if (raw === '//') {
        longNames = Buffer.alloc(len);
        fs.readSync(fd, longNames, 0, len, pos + 60);
      } else if (raw === '/' || raw === '/SYM64/' || raw.startsWith('__.SYMDEF')) {
        // symbol index
      } else if (/^\/\d+$/.test(raw)) {
        const off = parseInt(raw.slice(1), 10);
        if (!longNames) throw new ArError(`${path}: long name reference without a name table`);
        let end = off;
        while (end < longNames.length && longNames[end] !== 0x0a) end++;
        names.push(longNames.toString('latin1', off, end).replace(/\/$/, ''));
      } else if (raw.startsWith('#1/')) {
        const n = parseInt(raw.slice(3), 10);
        const b = Buffer.alloc(n);
        fs.readSync(fd, b, 0, n, pos + 60);
        names.push(b.toString('latin1').replace(/\0+$/, ''));
      } else {
        names.push(raw.endsWith('/') ? raw.slice(0, -1) : raw);
      }
      pos += 60 + len + (len & 1);
    }
    return names;
  } finally {
    fs.closeSync(fd);
  }
}
