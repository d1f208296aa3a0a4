// The stub object: byte-level for x86_64 and aarch64 (read back with our ELF reader and, where
// installed, checked by binutils), the symbol-resolution plan, and an x86_64 stub linked into a
// real .so that a running process loads and calls through.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  ElfFile, EM_AARCH64, EM_X86_64, ET_REL, SHN_ABS, SHT_RELA, STB_GLOBAL, STB_LOCAL, STT_FUNC, STT_OBJECT, STT_TLS, STV_DEFAULT, STV_HIDDEN,
  ElfSymbol,
} from '../../../server/src/engine/elf';
import { findGccLdDir, linkerCandidates } from '../../../server/src/engine/linker';
import { encodeTrampoline, planStub, writeStubObject } from '../../../server/src/engine/stub';
import { FatSymbols, ObjectSymbols } from '../../../server/src/engine/symbols';
import { cleanupTmp, compileC, have, Proc, sh, tmpDir } from './helpers';

// Names are byte strings (latin1-decoded, as the ELF reader returns them): any byte but NUL.
const WEIRD = Buffer.from('we$ird.name with "quotes" and ünicode', 'utf8').toString('latin1');

function sym(name: string, value: number, type = STT_FUNC, bind = STB_GLOBAL, shndx = 1, size = 8): ElfSymbol {
  return { index: 0, name, value, size, type, bind, visibility: 0, shndx };
}

function objSyms(undef: string[], defined: string[] = [], tls: string[] = []): ObjectSymbols {
  return { path: 'x.o', defined: new Set(defined), undefined: new Set(undef), undefinedTls: new Set(tls), locals: new Set() };
}

describe('engine/stub', function () {
  this.timeout(600000); // real builds on a shared 2-core machine: generous, never asserted
  after(cleanupTmp);

  it('encodes x86_64 and aarch64 trampolines', function () {
    const x = encodeTrampoline('x86_64', 0x7f1122334455);
    assert.deepEqual([...x.subarray(0, 6)], [0xff, 0x25, 0, 0, 0, 0]);
    assert.equal(x.readBigUInt64LE(6), 0x7f1122334455n);
    const a = encodeTrampoline('aarch64', 0xffff11223344);
    assert.equal(a.readUInt32LE(0), 0x58000050); // ldr x16, #8
    assert.equal(a.readUInt32LE(4), 0xd61f0200); // br x16
    assert.equal(a.readBigUInt64LE(8), 0xffff11223344n);
    assert.throws(() => encodeTrampoline('x86_64', -1), /out of range/);
  });

  for (const arch of ['x86_64', 'aarch64'] as const) {
    it(`writes a relocation-free ${arch} stub object that reads back exactly`, function () {
      const functions = [
        { name: 'plain_fn', address: 0x555500001000 },
        { name: WEIRD, address: 0x555500002000 },
      ];
      const data = [{ name: 'some.static$x', address: 0x555500003000, size: 24 }];
      const buf = writeStubObject({ arch, functions, data });
      const elf = ElfFile.parse(buf);
      assert.equal(elf.type, ET_REL);
      assert.equal(elf.machine, arch === 'x86_64' ? EM_X86_64 : EM_AARCH64);
      assert.equal(elf.sections.filter((s) => s.type === SHT_RELA).length, 0, 'no relocations');
      const text = elf.section('.text')!;
      const bytes = elf.sectionData(text);
      assert.equal(bytes.length, 32);
      assert.deepEqual(bytes.subarray(0, 16), encodeTrampoline(arch, 0x555500001000));
      assert.deepEqual(bytes.subarray(16, 32), encodeTrampoline(arch, 0x555500002000));
      assert.ok(elf.section('.note.GNU-stack'), 'non-executable stack note');

      const syms = elf.symtab()!;
      const symtab = elf.section('.symtab')!;
      // locals first, sh_info = first global
      assert.ok(syms.slice(0, symtab.info).every((s) => s.bind === STB_LOCAL));
      assert.ok(syms.slice(symtab.info).every((s) => s.bind === STB_GLOBAL));
      const byName = new Map(syms.map((s) => [s.name, s]));
      const f1 = byName.get('plain_fn')!;
      assert.equal(f1.type, STT_FUNC);
      assert.equal(f1.visibility, STV_HIDDEN);
      assert.equal(f1.shndx, text.index);
      assert.equal(f1.value, 0);
      const f2 = byName.get(WEIRD)!;
      assert.ok(f2, 'weird name round-trips');
      assert.equal(f2.value, 16);
      const d = byName.get('some.static$x')!;
      assert.equal(d.type, STT_OBJECT);
      assert.equal(d.shndx, SHN_ABS);
      assert.equal(d.visibility, STV_DEFAULT);
      assert.equal(d.value, 0x555500003000);
      assert.equal(d.size, 24);
    });
  }

  it('is accepted by binutils (readelf; objdump disassembles the trampolines)', function () {
    const dir = tmpDir('stub-bu');
    const x = path.join(dir, 'x.o');
    fs.writeFileSync(x, writeStubObject({ arch: 'x86_64', functions: [{ name: 'f', address: 0x1234 }], data: [] }));
    const re = sh('readelf', ['-Ws', x]);
    assert.match(re, /FUNC\s+GLOBAL\s+HIDDEN\s+1 f/);
    if (process.arch === 'x64') assert.match(sh('objdump', ['-d', x]), /jmp\s+\*0x0\(%rip\)/);
    const objdumpA64 = have('aarch64-linux-gnu-objdump') ? 'aarch64-linux-gnu-objdump' : process.arch === 'arm64' ? 'objdump' : undefined;
    if (objdumpA64) {
      const a = path.join(dir, 'a.o');
      fs.writeFileSync(a, writeStubObject({ arch: 'aarch64', functions: [{ name: 'g', address: 0x1234 }], data: [] }));
      const dis = sh(objdumpA64, ['-d', a]);
      assert.match(dis, /ldr\s+x16, 8/);
      assert.match(dis, /br\s+x16/);
    }
  });

  it('rejects duplicate and NUL-containing names', function () {
    assert.throws(() => writeStubObject({ arch: 'x86_64', functions: [{ name: 'a', address: 1 }], data: [{ name: 'a', address: 2, size: 0 }] }), /defined twice/);
    assert.throws(() => writeStubObject({ arch: 'x86_64', functions: [{ name: 'a\0b', address: 1 }], data: [] }), /NUL/);
  });

  it('plans the stub: functions, data, TLS, imports, .llvm suffixes and ambiguity', function () {
    const fat = FatSymbols.fromSymbols('fat', 'x86_64', [
      sym('main', 0x1000),
      sym('helper', 0x2000, STT_FUNC, STB_LOCAL),
      sym('COUNTER', 0x9000, STT_OBJECT),
      sym('TLS_VAR', 0x10, STT_TLS),
      sym('local_thing.llvm.111', 0x3000, STT_FUNC, STB_LOCAL),
      sym('dup', 0x4000, STT_FUNC, STB_LOCAL),
      sym('dup', 0x5000, STT_FUNC, STB_LOCAL),
      sym('malloc', 0, STT_FUNC, STB_GLOBAL, 0),
    ], [0, 0x6 /* alloc+exec */]);
    const slide = 0x555500000000;
    const plan = planStub(fat, [
      objSyms(['helper', 'COUNTER', 'TLS_VAR', 'malloc', 'local_thing.llvm.999', 'dup', 'defined_here', 'nowhere'], ['defined_here']),
    ], slide);
    const fns = Object.fromEntries(plan.spec.functions.map((f) => [f.name, f.address]));
    assert.equal(fns.helper, 0x2000 + slide);
    assert.equal(fns['local_thing.llvm.999'], 0x3000 + slide, 'matched after suffix normalisation');
    assert.equal(fns.dup, 0x4000 + slide, 'ambiguous: first used');
    assert.deepEqual(plan.ambiguous, ['dup']);
    assert.equal(plan.viaSuffix, 1);
    assert.deepEqual(plan.spec.data.map((d) => [d.name, d.address]), [['COUNTER', 0x9000 + slide]]);
    assert.deepEqual(plan.threadLocals, ['TLS_VAR']);
    assert.deepEqual(plan.unresolved.sort(), ['malloc', 'nowhere']);
    assert.ok(!('defined_here' in fns));
  });

  it('x86_64: a real process calls through a trampoline and writes its static via the stub', function () {
    if (process.arch !== 'x64') this.skip();
    const dir = tmpDir('stub-run');
    const host = compileC(dir, 'host', `
#include <stdio.h>
#include <string.h>
#include <dlfcn.h>
static int host_counter = 41;                 /* not exported: reached through an absolute stub symbol */
static int add_one(int x) { return x + 1; }   /* not exported: reached through a trampoline */
int main(void) {
  printf("fn %lu\\ndata %lu\\n", (unsigned long)&add_one, (unsigned long)&host_counter);
  fflush(stdout);
  char path[4096];
  while (fgets(path, sizeof path, stdin)) {
    path[strcspn(path, "\\n")] = 0;
    void *h = dlopen(path, RTLD_NOW);
    if (!h) { printf("dlopen-failed %s\\n", dlerror()); fflush(stdout); continue; }
    int (*entry)(void) = (int (*)(void))dlsym(h, "patch_entry");
    int r = entry();
    printf("result %d counter %d\\n", r, host_counter);
    fflush(stdout);
  }
  return 0;
}`, ['-O0', '-ldl']);
    const patchC = path.join(dir, 'patch.c');
    fs.writeFileSync(patchC, `
extern int add_one_renamed(int) __asm__("host$add_one.fn");
extern int counter __asm__("host.counter$x");
int patch_entry(void) { counter += 1; return add_one_renamed(counter) * 10; }
`);
    const patchO = path.join(dir, 'patch.o');
    sh('cc', ['-c', '-fPIC', '-O0', '-o', patchO, patchC]);

    const app = new Proc(host);
    try {
      return (async () => {
        const fn = Number((await app.waitFor(/^fn (\d+)/)).match[1]);
        const data = Number((await app.waitFor(/^data (\d+)/)).match[1]);
        const stubO = path.join(dir, 'stub.o');
        fs.writeFileSync(stubO, writeStubObject({ arch: 'x86_64', functions: [{ name: 'host$add_one.fn', address: fn }], data: [{ name: 'host.counter$x', address: data, size: 4 }] }));
        // every linker available here (rust-lld, lld, mold, GNU ld) must accept the stub
        const cands = linkerCandidates({ gccLdDir: findGccLdDir([], sh('rustc', ['--print', 'sysroot']).trim() + '/bin/rustc') });
        assert.ok(cands.length > 0);
        let counter = 41;
        for (const c of cands) {
          const so = path.join(dir, `libpatch-${c.kind}.so`);
          sh('cc', ['-shared', '-nodefaultlibs', ...c.flags, '-Wl,-z,now', '-o', so, patchO, stubO]);
          const from = app.lines.length;
          app.send(so);
          const r = await app.waitFor(/^(result|dlopen-failed)/, from);
          counter++;
          assert.equal(r.line, `result ${(counter + 1) * 10} counter ${counter}`, `with ${c.kind}`);
        }
      })().finally(() => app.stop());
    } catch (e) {
      app.stop();
      throw e;
    }
  });
});
