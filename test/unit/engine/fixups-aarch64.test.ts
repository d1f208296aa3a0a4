// engine/fixups-aarch64.ts: the aarch64 rewrites that keep the app's statics and thread-locals.
// The encoders are checked against binutils' disassembler; the rewrite itself on real rustc
// objects (a tip crate with a static, a `static mut` and a `thread_local!`, a workspace crate with
// a `thread_local!` reached through TLS descriptors), compared word for word with what GNU ld
// wrote into the executable linked from the same objects: the linker resolves local-exec and
// relaxes descriptors to local-exec itself, so the executable holds exactly the instructions a
// correct rewrite must produce.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ElfFile, ElfSymbol, STT_FUNC, STT_TLS } from '../../../server/src/engine/elf';
import { applyFixups } from '../../../server/src/engine/fixups';
import {
  a64TpOffset, ldrFromAdd, movkX0, movzX0Lsl16, withImm12, isAdrp, isAddImm64, isLdr64, scanAarch64Section,
  R_AARCH64_ADD_ABS_LO12_NC, R_AARCH64_ADR_GOT_PAGE, R_AARCH64_ADR_PREL_PG_HI21, R_AARCH64_LD64_GOT_LO12_NC, R_AARCH64_LDST64_ABS_LO12_NC, R_AARCH64_NONE,
} from '../../../server/src/engine/fixups-aarch64';
import { findGccLdDir, linkerCandidates } from '../../../server/src/engine/linker';
import { writeStubObject } from '../../../server/src/engine/stub';
import { FatSymbols } from '../../../server/src/engine/symbols';
import { crossToolsMissing, TRIPLE } from '../../support/cross-target';
import { cleanupTmp, have, sh, tmpDir } from './helpers';

const OBJDUMP = have('aarch64-linux-gnu-objdump') ? 'aarch64-linux-gnu-objdump' : process.arch === 'arm64' ? 'objdump' : undefined;

const WSLIB = `
thread_local! {
    pub static WS_TLS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}
#[inline(never)]
pub fn ws_bump() -> u64 {
    WS_TLS.with(|c| { c.set(c.get() + 1); c.get() })
}
`;
const MAIN = `
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
static TIP_CALLS: AtomicU64 = AtomicU64::new(0);
static mut PLAIN: u64 = 3;
thread_local! {
    static TIP_TLS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}
#[inline(never)]
fn tip_message() -> String {
    let calls = TIP_CALLS.fetch_add(1, Relaxed) + 1;
    let tls = TIP_TLS.with(|c| { c.set(c.get() + 1); c.get() });
    let plain = unsafe { PLAIN };
    format!("{calls} {tls} {plain} {}", wslib::ws_bump())
}
fn main() {
    println!("{}", tip_message());
}
`;

/** The instruction words of a function: in an object (its own section) or an executable (by address). */
function words(elf: ElfFile, buf: Buffer, sym: ElfSymbol): number[] {
  const sec = elf.sections[sym.shndx];
  const start = sec.offset + (elf.sections[sym.shndx].addr ? sym.value - sec.addr : sym.value);
  return Array.from({ length: sym.size / 4 }, (_, i) => buf.readUInt32LE(start + i * 4));
}

describe('engine/fixups-aarch64', function () {
  this.timeout(600000); // real builds on a shared 2-core machine: generous, never asserted
  after(cleanupTmp);

  it('encodes the rewritten instructions as the Arm ARM does (binutils disassembles them)', function () {
    // add x8, x8, #0 → ldr x8, [x8]; add x0, x9, #0 → ldr x0, [x9]
    assert.equal(ldrFromAdd(0x91000108), 0xf9400108);
    assert.equal(ldrFromAdd(0x91000120), 0xf9400120);
    assert.equal(withImm12(0x91400108, 0x2), 0x91400908); // add x8, x8, #0x2, lsl #12
    assert.equal(withImm12(0x91000100, 0x30), 0x9100c100); // add x0, x8, #0x30
    assert.equal(movzX0Lsl16(0x1), 0xd2a00020);
    assert.equal(movkX0(0xa8), 0xf2801500); // as GNU ld relaxes a descriptor (seen in a real binary)
    assert.ok(isAdrp(0x90000008) && !isAdrp(0x10000008), 'adrp, not adr');
    assert.ok(isAddImm64(0x91400108, true) && !isAddImm64(0x91400108, false) && isAddImm64(0x91000108, false));
    assert.ok(!isAddImm64(0x11000108, false), 'a 32-bit add is not taken for an address');
    assert.ok(isLdr64(0xf9400001) && !isLdr64(0xb9400001));
    // TLS variant I: a 16-byte TCB, then the block at its alignment
    assert.equal(a64TpOffset(0x20, { align: 8 }), 0x30);
    assert.equal(a64TpOffset(0x20, { align: 64 }), 0x60);
    if (!OBJDUMP) return;
    const dir = tmpDir('a64-enc');
    const bin = path.join(dir, 'code.bin');
    const buf = Buffer.alloc(16);
    [ldrFromAdd(0x91000128), withImm12(0x91400108, 0x2), movzX0Lsl16(0x1), movkX0(0x30)].forEach((w, i) => buf.writeUInt32LE(w, i * 4));
    fs.writeFileSync(bin, buf);
    const dis = sh(OBJDUMP, ['-D', '-b', 'binary', '-m', 'aarch64', bin]);
    assert.match(dis, /ldr\s+x8, \[x9\]/);
    assert.match(dis, /add\s+x8, x8, #0x2, lsl #12/);
    assert.match(dis, /mov\s+x0, #0x10000/); // movz x0, #1, lsl #16
    assert.match(dis, /movk\s+x0, #0x30/);
  });

  it('pairs only adjacent adrp + add of the same static that overwrite the page register; anything else leaves the static alone', function () {
    // A section of instruction words with RELA entries (24 bytes each) after it in the same buffer.
    const scan = (code: number[], rels: Array<[offset: number, type: number, sym: number]>) => {
      const buf = Buffer.alloc(code.length * 4 + rels.length * 24);
      code.forEach((w, i) => buf.writeUInt32LE(w, i * 4));
      const relocs = rels.map(([offset, type, sym], i) => ({ offset, type, sym, addend: 0, entryOffset: code.length * 4 + i * 24 }));
      const found = scanAarch64Section({ buf, sectionOffset: 0, code: true, relocs, syms: [] }, {
        staticTarget: (i) => ({ name: `S${i}`, index: i, exact: true }),
        tlsTarget: () => undefined,
        tpOffset: () => undefined,
      });
      return { buf, found };
    };
    // adrp x8, X; add x8, x8, :lo12:X → rewritten in place to adrp x8, :got:X; ldr x8, [x8, :got_lo12:X]
    const ok = scan([0x90000008, 0x91000108], [[0, R_AARCH64_ADR_PREL_PG_HI21, 1], [4, R_AARCH64_ADD_ABS_LO12_NC, 1]]);
    assert.deepEqual(ok.found.blocked, []);
    assert.equal(ok.found.statics.length, 1);
    ok.found.statics[0].rewrite(7);
    assert.equal(ok.buf.readUInt32LE(4), 0xf9400108);
    assert.equal(ok.buf.readUInt32LE(8 + 8), R_AARCH64_ADR_GOT_PAGE);
    assert.equal(ok.buf.readUInt32LE(8 + 12), 7);
    assert.equal(ok.buf.readUInt32LE(8 + 24 + 8), R_AARCH64_LD64_GOT_LO12_NC);
    assert.equal(ok.buf.readUInt32LE(8 + 24 + 12), 7);
    // the page stays live in x8 (add x0, x8, …): x8 could be read again as X's page
    const live = scan([0x90000008, 0x91000100], [[0, R_AARCH64_ADR_PREL_PG_HI21, 1], [4, R_AARCH64_ADD_ABS_LO12_NC, 1]]);
    assert.deepEqual(live.found.statics, []);
    assert.match(live.found.blocked.map((b) => b.why).join(), /cannot rebind/);
    // a load in place: blocked as a static mut is
    const load = scan([0x90000008, 0xf9400109], [[0, R_AARCH64_ADR_PREL_PG_HI21, 1], [4, R_AARCH64_LDST64_ABS_LO12_NC, 1]]);
    assert.deepEqual(load.found.statics, []);
    assert.ok(load.found.blocked.every((b) => /in place/.test(b.why)) && load.found.blocked.length > 0);
    // halves of two different statics
    const mixed = scan([0x90000008, 0x91000108], [[0, R_AARCH64_ADR_PREL_PG_HI21, 1], [4, R_AARCH64_ADD_ABS_LO12_NC, 2]]);
    assert.deepEqual(mixed.found.statics, []);
    assert.deepEqual(mixed.found.blocked.map((b) => b.name).sort(), ['S1', 'S2']);
  });

  describe('on real rustc objects', function () {
    let dir = '';
    let exe: ElfFile;
    let exeBuf: Buffer;

    before(function () {
      const missing = crossToolsMissing();
      if (missing) {
        console.log(`    skipped: ${missing}`);
        this.skip();
      }
      dir = tmpDir('a64-fix');
      fs.writeFileSync(path.join(dir, 'wslib.rs'), WSLIB);
      fs.writeFileSync(path.join(dir, 'main.rs'), MAIN);
      const rustc = (args: string[]) => {
        const r = spawnSync('rustc', ['--edition=2021', '--target', TRIPLE, '-C', 'opt-level=0', '-C', 'codegen-units=1', ...args], { cwd: dir, encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
      };
      rustc(['--crate-type=rlib', '--crate-name', 'wslib', '--emit=obj,link', 'wslib.rs']);
      rustc(['--crate-type=bin', '--crate-name', 'main', '--emit=obj,link', '-C', 'linker=aarch64-linux-gnu-gcc', '--extern', 'wslib=libwslib.rlib', 'main.rs']);
      exeBuf = fs.readFileSync(path.join(dir, 'main'));
      exe = ElfFile.parse(exeBuf, 'main');
    });

    const objSym = (elf: ElfFile, pred: (s: ElfSymbol) => boolean): ElfSymbol => {
      const syms = elf.symbolsOf(elf.sections.find((s) => s.type === 2)!);
      const hit = syms.find(pred);
      assert.ok(hit, 'symbol present');
      return hit;
    };
    const exeSym = (name: string) => objSym(exe, (s) => s.name === name);

    it('tip: the static goes through the GOT, the thread-local gets the linker\'s own offset, the static mut is left alone and noted', function () {
      const fat = FatSymbols.fromFile(path.join(dir, 'main'));
      const r = applyFixups({ fat, objects: [path.join(dir, 'main.o')], outDir: path.join(dir, 'fixed') });
      assert.equal(r.staticsRebound, 1, r.notes.join('\n'));
      assert.ok(r.threadLocalsRebound >= 1, `${r.threadLocalsRebound}`);
      assert.match(r.notes.join('\n'), /static `main::PLAIN` starts fresh in the patch \(read or written in place/);
      assert.ok(!r.notes.some((n) => /TIP_CALLS|TIP_TLS|thread_local/.test(n)), r.notes.join('\n'));
      const fixedPath = r.objects[0];
      assert.notEqual(fixedPath, path.join(dir, 'main.o'), 'a rewritten copy, never the original');
      const buf = fs.readFileSync(fixedPath);
      const obj = ElfFile.parse(buf, fixedPath);
      const syms = obj.symbolsOf(obj.sections.find((s) => s.type === 2)!);

      // TIP_CALLS: adrp+ldr through the GOT against a global undefined TIP_CALLS
      const got = obj.sections.filter((s) => s.type === 4).flatMap((rel) => obj.relocations(rel).map((x) => ({ ...x, target: obj.sections[rel.info] })))
        .filter((x) => x.type === R_AARCH64_ADR_GOT_PAGE || x.type === R_AARCH64_LD64_GOT_LO12_NC)
        .filter((x) => /TIP_CALLS/.test(syms[x.sym].name));
      assert.equal(got.length, 2, 'one adrp and one ldr through the GOT');
      const ref = syms[got[0].sym];
      assert.equal(ref.shndx, 0, 'TIP_CALLS is an undefined reference (the stub defines it)');
      assert.equal(ref.bind, 1, 'global');
      const ldr = got.find((x) => x.type === R_AARCH64_LD64_GOT_LO12_NC)!;
      const adrp = got.find((x) => x.type === R_AARCH64_ADR_GOT_PAGE)!;
      assert.equal(ldr.offset, adrp.offset + 4);
      const ldrWord = buf.readUInt32LE(ldr.target.offset + ldr.offset);
      const adrpWord = buf.readUInt32LE(adrp.target.offset + adrp.offset);
      assert.ok(isLdr64(ldrWord), ldrWord.toString(16));
      assert.equal((ldrWord >>> 5) & 31, adrpWord & 31, 'the ldr reads the page the adrp formed');
      if (OBJDUMP) assert.match(sh(OBJDUMP, ['-dr', fixedPath]), /ldr\s+x\d+, \[x\d+\]\n\s+[0-9a-f]+: R_AARCH64_LD64_GOT_LO12_NC\s+\S*TIP_CALLS/);

      // TIP_TLS: the accessor's words are now exactly what GNU ld wrote into the executable
      const accessor = (s: ElfSymbol) => s.type === STT_FUNC && /TIP_TLS/.test(s.name) && s.size > 0 && !/init/.test(s.name);
      const mine = objSym(obj, accessor);
      const linked = exeSym(mine.name);
      const a = words(obj, buf, mine);
      const b = words(exe, exeBuf, linked);
      assert.deepEqual(a.map((w) => w.toString(16)), b.map((w) => w.toString(16)), 'rewritten = linked');
      const tlsRelocs = obj.sections.filter((s) => s.type === 4 && obj.sections[s.info].name.includes(mine.name)).flatMap((rel) => obj.relocations(rel));
      assert.ok(tlsRelocs.length >= 2 && tlsRelocs.every((x) => x.type === R_AARCH64_NONE), 'the local-exec relocations are gone');
      // and the constant is the executable's tp offset of the thread-local (variant I)
      const val = exeSym(objSym(obj, (s) => s.type === STT_TLS && /TIP_TLS/.test(s.name)).name);
      const hi = (a.find((w) => isAddImm64(w, true))! >>> 10) & 0xfff;
      const lo = (a.find((w) => isAddImm64(w, false) && ((w >>> 5) & 31) !== 31)! >>> 10) & 0xfff;
      assert.equal(hi * 4096 + lo, a64TpOffset(val.value, fat.tls!));
    });

    it('workspace crate: a TLS descriptor is relaxed to local-exec exactly as the linker relaxes it', function () {
      const fat = FatSymbols.fromFile(path.join(dir, 'main'));
      const r = applyFixups({ fat, objects: [path.join(dir, 'wslib.o')], outDir: path.join(dir, 'fixed-ws') });
      assert.equal(r.threadLocalsRebound, 1, r.notes.join('\n'));
      assert.deepEqual(r.notes, []);
      const buf = fs.readFileSync(r.objects[0]);
      const obj = ElfFile.parse(buf, r.objects[0]);
      const mine = objSym(obj, (s) => s.type === STT_FUNC && /WS_TLS/.test(s.name) && s.size > 0 && !/init/.test(s.name));
      const a = words(obj, buf, mine);
      const b = words(exe, exeBuf, exeSym(mine.name));
      assert.deepEqual(a.map((w) => w.toString(16)), b.map((w) => w.toString(16)), 'rewritten = linked');
      assert.ok(a.some((w) => (w & 0xffe0001f) >>> 0 === 0xf2800000), 'a movk x0');
      assert.equal(a.filter((w) => w === 0xd503201f).length, 2, 'add and blr became nops');
    });

    it('the rewritten objects link into a shared object with every linker here: the static through a GOT slot bound to the stub, no TLS relocation left', function () {
      const fat = FatSymbols.fromFile(path.join(dir, 'main'));
      const r = applyFixups({ fat, objects: [path.join(dir, 'main.o'), path.join(dir, 'wslib.o')], outDir: path.join(dir, 'fixed-link') });
      const tipCalls = exe.symbolsOf(exe.sections.find((s) => s.type === 2)!).find((s) => /TIP_CALLS/.test(s.name))!.name;
      const stub = path.join(dir, 'stub.o');
      fs.writeFileSync(stub, writeStubObject({ arch: 'aarch64', functions: [], data: [{ name: tipCalls, address: 0x5a5a000, size: 8 }] }));
      // rust-lld (through -B) and GNU ld: the linkers the cross driver runs (it does not find a
      // host ld.lld or mold by -fuse-ld; the engine's link probe skips those)
      const cands = linkerCandidates({ gccLdDir: findGccLdDir([], sh('rustc', ['--print', 'sysroot']).trim() + '/bin/rustc') })
        .filter((c) => c.kind === 'rust-lld' || c.kind === 'gnu-ld');
      assert.ok(cands.length > 0);
      for (const c of cands) {
        const so = path.join(dir, `libpatch-${c.kind}.so`);
        const link = spawnSync('aarch64-linux-gnu-gcc', ['-shared', '-nodefaultlibs', ...c.flags, '-Wl,-z,now', '-o', so, ...r.objects, stub], { encoding: 'utf8' });
        assert.equal(link.status, 0, `${c.kind}: ${link.stderr}`);
        const relocs = sh('aarch64-linux-gnu-readelf', ['-rW', so]);
        // GLOB_DAT: the slot takes the stub's absolute definition (or the app's, the same address)
        assert.match(relocs, new RegExp(`R_AARCH64_GLOB_DAT\\s+0*5a5a000 ${tipCalls.replace(/\$/g, '\\$')}`), `${c.kind}:\n${relocs}`);
        assert.doesNotMatch(relocs, /R_AARCH64_(TLS|TPREL)/, `${c.kind}: no thread-local relocation (the app's block is reached at a constant offset):\n${relocs}`);
      }
    });

    it('a thread-local the executable does not have is not rebound: the link will fail and the note says restart', function () {
      const real = FatSymbols.fromFile(path.join(dir, 'main'));
      const syms = exe.symbolsOf(exe.sections.find((s) => s.type === 2)!).filter((s) => !/TIP_TLS/.test(s.name));
      const fat = FatSymbols.fromSymbols(real.path, 'aarch64', syms, exe.sections.map((s) => s.flags), real.tls);
      const r = applyFixups({ fat, objects: [path.join(dir, 'main.o')], outDir: path.join(dir, 'fixed-new') });
      assert.match(r.notes.join('\n'), /thread_local `main::TIP_TLS::\S+` cannot be bound to the app's \(new in this patch, or unknown layout\): restart the app to use it/);
      const buf = fs.readFileSync(r.objects[0]);
      const obj = ElfFile.parse(buf, r.objects[0]);
      const le = obj.sections.filter((s) => s.type === 4).flatMap((rel) => obj.relocations(rel)).filter((x) => x.type === 549 || x.type === 551);
      assert.equal(le.length, 2, 'the local-exec relocations stay (the patch cannot link)');
    });
  });
});
