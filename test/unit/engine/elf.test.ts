// The ELF and ar readers against real files built here, with binutils as the oracle.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listArchive, listArchiveFile, readArchive } from '../../../server/src/engine/ar';
import {
  ElfFile, readElf, ET_DYN, ET_REL, PT_TLS, SHN_UNDEF, STB_GLOBAL, STB_LOCAL, STT_FUNC, STT_OBJECT, STT_TLS, STV_HIDDEN,
} from '../../../server/src/engine/elf';
import { FatSymbols, SymbolError, summarize } from '../../../server/src/engine/symbols';
import { cleanupTmp, compileC, sh, tmpDir } from './helpers';

const PROGRAM = `
#include <stdio.h>
int global_counter = 5;
static int local_counter = 7;
__thread long tls_value = 3;
__attribute__((visibility("hidden"))) int hidden_fn(int x) { return x + local_counter; }
static int local_fn(int x) { return x * 2; }
int weird(int) __asm__("my$weird.name");
int weird(int x) { return x - 1; }
int main(void) { printf("%d\\n", hidden_fn(local_fn(global_counter)) + (int)tls_value + weird(1)); return 0; }
`;

interface ReadelfSym { value: number; size: number; type: string; bind: string; vis: string; ndx: string; name: string }

function readelfSymbols(file: string): ReadelfSym[] {
  const out: ReadelfSym[] = [];
  let cur = '';
  for (const line of sh('readelf', ['-Ws', file]).split('\n')) {
    const m = /^Symbol table '([^']+)'/.exec(line);
    if (m) {
      cur = m[1];
      continue;
    }
    if (cur !== '.symtab') continue;
    const p = line.trim().split(/\s+/);
    if (p.length < 7 || !/^\d+:$/.test(p[0])) continue;
    out.push({ value: parseInt(p[1], 16), size: Number(p[2]), type: p[3], bind: p[4], vis: p[5], ndx: p[6], name: p.slice(7).join(' ').replace(/ \(\d+\)$/, '') });
  }
  return out;
}

describe('engine/elf', function () {
  this.timeout(600000); // real builds on a shared 2-core machine: generous, never asserted
  let dir: string;
  let exe: string;
  let obj: string;
  before(function () {
    dir = tmpDir('elf');
    exe = compileC(dir, 'prog', PROGRAM, ['-O0', '-g', '-pie', '-fPIE']);
    fs.writeFileSync(path.join(dir, 'obj.c'), PROGRAM);
    obj = path.join(dir, 'obj.o');
    sh('cc', ['-c', '-O0', '-fPIC', '-o', obj, path.join(dir, 'obj.c')]);
  });
  after(cleanupTmp);

  it('reads the header, sections and program headers of a PIE executable', function () {
    const elf = ElfFile.open(exe);
    try {
      assert.equal(elf.type, ET_DYN);
      assert.equal(elf.arch, process.arch === 'arm64' ? 'aarch64' : 'x86_64');
      const names = elf.sections.map((s) => s.name);
      for (const n of ['.text', '.symtab', '.strtab', '.dynsym', '.tdata']) assert.ok(names.includes(n), `missing ${n}`);
      const tls = elf.tlsSegment();
      assert.ok(tls, 'PT_TLS expected');
      assert.equal(tls.type, PT_TLS);
      assert.ok(tls.memsz >= 8);
      // readelf agrees on the section count
      const count = Number(/There are (\d+) section headers/.exec(sh('readelf', ['-SW', exe]))![1]);
      assert.equal(elf.sections.length, count);
    } finally {
      elf.close();
    }
  });

  it('reads every .symtab entry like readelf, locals included', function () {
    const elf = readElf(exe);
    const mine = elf.symtab()!;
    const theirs = readelfSymbols(exe);
    assert.equal(mine.length, theirs.length);
    for (let i = 0; i < mine.length; i++) {
      assert.equal(mine[i].value, theirs[i].value, `value of #${i} ${theirs[i].name}`);
      assert.equal(mine[i].size, theirs[i].size, `size of #${i}`);
      assert.equal(mine[i].name, theirs[i].name, `name of #${i}`);
      if (theirs[i].ndx === 'UND') assert.equal(mine[i].shndx, SHN_UNDEF);
      else if (/^\d+$/.test(theirs[i].ndx)) assert.equal(mine[i].shndx, Number(theirs[i].ndx));
    }
    const by = (n: string) => mine.find((s) => s.name === n)!;
    assert.equal(by('main').type, STT_FUNC);
    assert.equal(by('global_counter').type, STT_OBJECT);
    assert.equal(by('global_counter').bind, STB_GLOBAL);
    assert.equal(by('local_counter').bind, STB_LOCAL);
    assert.equal(by('tls_value').type, STT_TLS);
    assert.equal(by('my$weird.name').type, STT_FUNC);
    // hidden symbols become local in a linked output
    assert.equal(by('hidden_fn').bind, STB_LOCAL);
  });

  it('reads objects: visibility, undefined symbols and RELA relocations like readelf', function () {
    const elf = readElf(obj);
    assert.equal(elf.type, ET_REL);
    const syms = elf.symtab()!;
    const hidden = syms.find((s) => s.name === 'hidden_fn')!;
    assert.equal(hidden.visibility, STV_HIDDEN);
    assert.equal(hidden.bind, STB_GLOBAL);
    const printf = syms.find((s) => s.name === 'printf')!;
    assert.equal(printf.shndx, SHN_UNDEF);
    const summary = summarize(obj, syms);
    assert.ok(summary.defined.has('main') && summary.defined.has('my$weird.name'));
    assert.ok(summary.undefined.has('printf'));
    assert.ok(summary.locals.has('local_counter'));

    const rela = elf.section('.rela.text')!;
    const mine = elf.relocations(rela);
    const theirs = sh('readelf', ['-rW', obj])
      .split('\n')
      .filter((l) => /^[0-9a-f]{16}\s/.test(l))
      .slice(0, mine.length)
      .map((l) => l.trim().split(/\s+/));
    assert.ok(mine.length > 0);
    for (let i = 0; i < mine.length; i++) {
      assert.equal(mine[i].offset, parseInt(theirs[i][0], 16));
      // Info column: 8 hex digits of symbol index, then 8 of type
      assert.equal(mine[i].sym, parseInt(theirs[i][1].slice(0, 8), 16));
      assert.equal(mine[i].type, parseInt(theirs[i][1].slice(8), 16));
    }
  });

  it('FatSymbols: main, TLS layout, lookups and the stripped / no-main errors', function () {
    const fat = FatSymbols.fromFile(exe);
    const main = readelfSymbols(exe).find((s) => s.name === 'main' && s.ndx !== 'UND')!;
    assert.equal(fat.mainAddress, main.value);
    assert.ok(fat.tls && fat.tls.memsz > 0);
    const r = fat.lookup('global_counter');
    assert.equal(r.kind, 'found');
    assert.equal(fat.lookup('printf').kind, 'undefined-in-exe');
    assert.equal(fat.lookup('no_such_symbol_anywhere').kind, 'missing');

    const stripped = path.join(dir, 'prog-stripped');
    sh('strip', ['-o', stripped, exe]);
    assert.throws(() => FatSymbols.fromFile(stripped), (e: Error) => e instanceof SymbolError && /no symbol table; set profile\.dev\.strip = false/.test(e.message));

    const nomain = compileC(dir, 'nomain', 'void _start(void) { for (;;) {} }', ['-nostartfiles', '-nostdlib', '-static']);
    assert.throws(() => FatSymbols.fromFile(nomain), (e: Error) => e instanceof SymbolError && /no `main` symbol/.test(e.message));

    assert.throws(() => FatSymbols.fromFile(path.join(dir, 'prog.c')), /not an ELF file/);
  });

  it('ar: lists and extracts members like ar(1), long names included', function () {
    const a = path.join(dir, 'a.o');
    const long = path.join(dir, 'a-member-with-a-name-longer-than-sixteen-chars.o');
    fs.copyFileSync(obj, a);
    fs.copyFileSync(obj, long);
    const lib = path.join(dir, 'libx.a');
    sh('ar', ['rcs', lib, a, long]);
    const expected = sh('ar', ['t', lib]).trim().split('\n');
    const members = readArchive(lib);
    assert.deepEqual(members.map((m) => m.name), expected);
    assert.deepEqual(listArchiveFile(lib), expected);
    assert.deepEqual(members[1].data, fs.readFileSync(obj));
    assert.deepEqual(listArchive(fs.readFileSync(lib)).map((m) => m.size), [fs.statSync(obj).size, fs.statSync(obj).size]);
    assert.throws(() => listArchive(Buffer.from('not an archive')), /not an ar archive/);
  });
});
