// engine/elf.ts — a small ELF64 little-endian reader: header, section headers, program headers
// (PT_TLS), .symtab/.dynsym with locals, and RELA relocations.
//
// Why hand-written: the engine needs a handful of tables from executables, shared objects and
// relocatable objects, fast and without extra processes (readelf costs 30-50 ms per call). The npm
// ELF packages are unmaintained, parse everything eagerly, or lack symbol/relocation detail
// (st_other, SHN_XINDEX, RELA). The format is fixed and tiny to read, so ~300 lines here beat a
// dependency.
//
// Big executables are read lazily: only the header, the section and program header tables and the
// sections asked for are read from disk (debug info, the bulk of a dev binary, is never touched).
//
// Symbol names are decoded as latin1 so every byte maps to one char and back: names with any bytes
// survive a round trip into the stub object unchanged.
//
// This module owns no process or LSP concerns; it never imports the LSP library or the devserver.
import * as fs from 'node:fs';

export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;

export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;

export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOBITS = 8;
export const SHT_DYNSYM = 11;
export const SHT_SYMTAB_SHNDX = 18;

export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;
export const SHF_MERGE = 0x10;
export const SHF_STRINGS = 0x20;
export const SHF_TLS = 0x400;

export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;

export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;
export const STB_GNU_UNIQUE = 10;

export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;
export const STT_COMMON = 5;
export const STT_TLS = 6;
export const STT_GNU_IFUNC = 10;

export const STV_DEFAULT = 0;
export const STV_HIDDEN = 2;

export const PT_LOAD = 1;
export const PT_TLS = 7;

export type Arch = 'x86_64' | 'aarch64';

export class ElfError extends Error {}

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

export interface ElfProgramHeader {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  paddr: number;
  filesz: number;
  memsz: number;
  align: number;
}

export interface ElfSymbol {
  /** Index in its symbol table. */
  index: number;
  name: string;
  value: number;
  size: number;
  type: number;
  bind: number;
  visibility: number;
  /** Section index, with SHN_XINDEX already resolved through .symtab_shndx. */
  shndx: number;
}

export interface ElfRelocation {
  offset: number;
  type: number;
  sym: number;
  addend: number;
  /** Byte offset of this entry inside the file (for in-place rewrites). */
  entryOffset: number;
}

/** u64 as a JS number. Addresses and sizes stay below 2^53 in practice (user space is < 2^48). */
function u64(b: Buffer, off: number): number {
  return b.readUInt32LE(off + 4) * 0x100000000 + b.readUInt32LE(off);
}
function i64(b: Buffer, off: number): number {
  return b.readInt32LE(off + 4) * 0x100000000 + b.readUInt32LE(off);
}

/** Where the bytes come from: a whole buffer (objects) or positional reads of a file (executables). */
interface ByteSource {
  size: number;
  read(offset: number, length: number): Buffer;
  close(): void;
}

function bufferSource(buf: Buffer): ByteSource {
  return {
    size: buf.length,
    read: (offset, length) => {
      if (offset + length > buf.length) throw new ElfError(`truncated file: wanted ${offset + length} bytes, have ${buf.length}`);
      return buf.subarray(offset, offset + length);
    },
    close: () => undefined,
  };
}

function fileSource(path: string): ByteSource {
  const fd = fs.openSync(path, 'r');
  const size = fs.fstatSync(fd).size;
  return {
    size,
    read: (offset, length) => {
      if (offset + length > size) throw new ElfError(`${path}: truncated: wanted ${offset + length} bytes, file has ${size}`);
      const out = Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        const n = fs.readSync(fd, out, done, length - done, offset + done);
        if (n <= 0) throw new ElfError(`${path}: short read`);
        done += n;
      }
      return out;
    },
    close: () => fs.closeSync(fd),
  };
}

export class ElfFile {
  readonly type: number;
  readonly machine: number;
  readonly entry: number;
  readonly sections: ElfSection[];
  readonly programHeaders: ElfProgramHeader[];
  /** File name or '<buffer>', for error messages. */
  readonly label: string;
  private readonly src: ByteSource;
  private readonly symtabCache = new Map<number, ElfSymbol[]>();

  private constructor(src: ByteSource, label: string) {
    this.src = src;
    this.label = label;
    if (src.size < 64) throw new ElfError(`${label}: not an ELF file (too short)`);
    const h = src.read(0, 64);
    if (h.readUInt32BE(0) !== 0x7f454c46) throw new ElfError(`${label}: not an ELF file`);
    if (h[4] !== 2) throw new ElfError(`${label}: not a 64-bit ELF file`);
    if (h[5] !== 1) throw new ElfError(`${label}: not a little-endian ELF file`);
    this.type = h.readUInt16LE(16);
    this.machine = h.readUInt16LE(18);
    this.entry = u64(h, 24);
    const phoff = u64(h, 32);
    const shoff = u64(h, 40);
    const phentsize = h.readUInt16LE(54);
    let phnum = h.readUInt16LE(56);
    const shentsize = h.readUInt16LE(58);
    let shnum = h.readUInt16LE(60);
    let shstrndx = h.readUInt16LE(62);

    // Extended numbering: counts that do not fit in 16 bits live in section header 0.
    if (shoff !== 0 && shentsize < 64 && (shnum > 0 || shstrndx > 0)) throw new ElfError(`${label}: bad section header size ${shentsize}`);
    if (shoff !== 0 && (shnum === 0 || shstrndx === SHN_XINDEX || phnum === 0xffff)) {
      const s0 = src.read(shoff, 64);
      if (shnum === 0) shnum = u64(s0, 32);
      if (shstrndx === SHN_XINDEX) shstrndx = s0.readUInt32LE(40);
      if (phnum === 0xffff) phnum = s0.readUInt32LE(44);
    }

    const sections: ElfSection[] = [];
    const nameOffs: number[] = [];
    if (shoff !== 0 && shnum > 0) {
      const t = src.read(shoff, shnum * shentsize);
      for (let i = 0; i < shnum; i++) {
        const o = i * shentsize;
        sections.push({
          index: i,
          name: '',
          type: t.readUInt32LE(o + 4),
          flags: u64(t, o + 8),
          addr: u64(t, o + 16),
          offset: u64(t, o + 24),
          size: u64(t, o + 32),
          link: t.readUInt32LE(o + 40),
          info: t.readUInt32LE(o + 44),
          addralign: u64(t, o + 48),
          entsize: u64(t, o + 56),
        });
        nameOffs.push(t.readUInt32LE(o)); // resolved below once .shstrtab is known
      }
      if (shstrndx < sections.length && shstrndx !== SHN_UNDEF) {
        const strs = this.sectionDataOf(sections[shstrndx]);
        for (const s of sections) s.name = cstr(strs, nameOffs[s.index]);
      }
    }
    this.sections = sections;

    const phs: ElfProgramHeader[] = [];
    if (phoff !== 0 && phnum > 0) {
      const t = src.read(phoff, phnum * phentsize);
      for (let i = 0; i < phnum; i++) {
        const o = i * phentsize;
        phs.push({
          type: t.readUInt32LE(o),
          flags: t.readUInt32LE(o + 4),
          offset: u64(t, o + 8),
          vaddr: u64(t, o + 16),
          paddr: u64(t, o + 24),
          filesz: u64(t, o + 32),
          memsz: u64(t, o + 40),
          align: u64(t, o + 48),
        });
      }
    }
    this.programHeaders = phs;
  }

  /** Parses an in-memory image (objects, tests). */
  static parse(buf: Buffer, label = '<buffer>'): ElfFile {
    return new ElfFile(bufferSource(buf), label);
  }

  /**
   * Opens a file and reads only its tables; sections are read on demand. Call close() when done
   * (or use readElf for a one-shot read of a small file).
   */
  static open(path: string): ElfFile {
    const src = fileSource(path);
    try {
      return new ElfFile(src, path);
    } catch (e) {
      src.close();
      throw e;
    }
  }

  close(): void {
    this.src.close();
  }

  get arch(): Arch | undefined {
    if (this.machine === EM_X86_64) return 'x86_64';
    if (this.machine === EM_AARCH64) return 'aarch64';
    return undefined;
  }

  section(name: string): ElfSection | undefined {
    return this.sections.find((s) => s.name === name);
  }

  sectionData(section: ElfSection | number): Buffer {
    const s = typeof section === 'number' ? this.sections[section] : section;
    if (!s) throw new ElfError(`${this.label}: no section ${String(section)}`);
    return this.sectionDataOf(s);
  }

  private sectionDataOf(s: ElfSection): Buffer {
    if (s.type === SHT_NOBITS || s.size === 0) return Buffer.alloc(0);
    return this.src.read(s.offset, s.size);
  }

  /** Reads raw bytes of the file. */
  readBytes(offset: number, length: number): Buffer {
    return this.src.read(offset, length);
  }

  /** The static symbol table (.symtab), locals included; undefined if the file is stripped. */
  symtab(): ElfSymbol[] | undefined {
    const s = this.sections.find((x) => x.type === SHT_SYMTAB);
    return s ? this.symbolsOf(s) : undefined;
  }

  /** The dynamic symbol table (.dynsym), if any. */
  dynsym(): ElfSymbol[] | undefined {
    const s = this.sections.find((x) => x.type === SHT_DYNSYM);
    return s ? this.symbolsOf(s) : undefined;
  }

  symbolsOf(symSection: ElfSection): ElfSymbol[] {
    const cached = this.symtabCache.get(symSection.index);
    if (cached) return cached;
    const data = this.sectionDataOf(symSection);
    const strs = symSection.link < this.sections.length ? this.sectionDataOf(this.sections[symSection.link]) : Buffer.alloc(0);
    // Indices >= SHN_LORESERVE that are SHN_XINDEX come from the parallel .symtab_shndx table.
    const shndxSec = this.sections.find((x) => x.type === SHT_SYMTAB_SHNDX && x.link === symSection.index);
    const xindex = shndxSec ? this.sectionDataOf(shndxSec) : undefined;
    const n = Math.floor(data.length / 24);
    const out: ElfSymbol[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const o = i * 24;
      const nameOff = data.readUInt32LE(o);
      const info = data[o + 4];
      let shndx = data.readUInt16LE(o + 6);
      if (shndx === SHN_XINDEX && xindex && xindex.length >= (i + 1) * 4) shndx = xindex.readUInt32LE(i * 4);
      out[i] = {
        index: i,
        name: nameOff === 0 ? '' : cstr(strs, nameOff),
        value: u64(data, o + 8),
        size: u64(data, o + 16),
        type: info & 0xf,
        bind: info >> 4,
        visibility: data[o + 5] & 0x3,
        shndx,
      };
    }
    this.symtabCache.set(symSection.index, out);
    return out;
  }

  /** RELA entries of a relocation section. */
  relocations(relaSection: ElfSection): ElfRelocation[] {
    if (relaSection.type !== SHT_RELA) throw new ElfError(`${this.label}: section ${relaSection.name} is not SHT_RELA`);
    const data = this.sectionDataOf(relaSection);
    const n = Math.floor(data.length / 24);
    const out: ElfRelocation[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const o = i * 24;
      out[i] = {
        offset: u64(data, o),
        type: data.readUInt32LE(o + 8),
        sym: data.readUInt32LE(o + 12),
        addend: i64(data, o + 16),
        entryOffset: relaSection.offset + o,
      };
    }
    return out;
  }

  /** Only the RELA entries of the given types (a fast scan: objects carry thousands of entries). */
  relocationsOfTypes(relaSection: ElfSection, types: ReadonlySet<number>): ElfRelocation[] {
    const data = this.sectionDataOf(relaSection);
    const out: ElfRelocation[] = [];
    for (let o = 0; o + 24 <= data.length; o += 24) {
      const type = data.readUInt32LE(o + 8);
      if (!types.has(type)) continue;
      out.push({ offset: u64(data, o), type, sym: data.readUInt32LE(o + 12), addend: i64(data, o + 16), entryOffset: relaSection.offset + o });
    }
    return out;
  }

  /** PT_TLS of an executable: where the initial TLS image lives and how big the block is. */
  tlsSegment(): ElfProgramHeader | undefined {
    return this.programHeaders.find((p) => p.type === PT_TLS);
  }
}

/** Reads a whole (small) file and parses it. */
export function readElf(path: string): ElfFile {
  return ElfFile.parse(fs.readFileSync(path), path);
}

function cstr(b: Buffer, off: number): string {
  if (off >= b.length) return '';
  let end = b.indexOf(0, off);
  if (end < 0) end = b.length;
  return b.toString('latin1', off, end);
}

export function isDefined(s: ElfSymbol): boolean {
  return s.shndx !== SHN_UNDEF;
}

export function isGlobalBind(bind: number): boolean {
  return bind === STB_GLOBAL || bind === STB_WEAK || bind === STB_GNU_UNIQUE;
}

export function machineFor(arch: Arch): number {
  return arch === 'x86_64' ? EM_X86_64 : EM_AARCH64;
}
