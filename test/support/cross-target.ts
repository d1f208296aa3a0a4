// The aarch64 cross set-up the cross-target tests and the `cross` benchmark use: cargo's own
// config for the target (its linker, a qemu-user runner) and whether this machine has the tools.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

export const TRIPLE = 'aarch64-unknown-linux-gnu';
export const CROSS_LINKER = 'aarch64-linux-gnu-gcc';
export const CROSS_RUNNER = 'qemu-aarch64-static';

/** The machine an ELF file is for, from its header's e_machine. */
export function elfMachine(file: string): string {
  const h = Buffer.alloc(20);
  const fd = fs.openSync(file, 'r');
  fs.readSync(fd, h, 0, 20, 0);
  fs.closeSync(fd);
  const m = h.readUInt16LE(18);
  return m === 183 ? 'aarch64' : m === 62 ? 'x86_64' : `machine ${m}`;
}

/** Why the cross tools are not usable here, or undefined when they are. */
export function crossToolsMissing(): string | undefined {
  const onPath = (p: string) => spawnSync('sh', ['-c', `command -v ${p}`]).status === 0;
  const missing: string[] = [];
  if (!onPath(CROSS_RUNNER)) missing.push(`${CROSS_RUNNER} (apt-get install qemu-user-static)`);
  if (!onPath(CROSS_LINKER)) missing.push(`${CROSS_LINKER} (apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross)`);
  if (!fs.existsSync('/usr/aarch64-linux-gnu/lib')) missing.push('/usr/aarch64-linux-gnu/lib (apt-get install libc6-dev-arm64-cross)');
  const libdir = spawnSync('rustc', ['--print', 'target-libdir', '--target', TRIPLE], { encoding: 'utf8' });
  const dir = libdir.status === 0 ? libdir.stdout.trim() : '';
  if (!dir || !fs.existsSync(dir) || !fs.readdirSync(dir).some((f) => f.startsWith('libstd-'))) missing.push(`the Rust target (rustup target add ${TRIPLE})`);
  return missing.length ? `cross tools missing: ${missing.join(', ')}` : undefined;
}

export const CROSS_CONFIG = `# written by subsecond-lsp's cross-target test
[target.${TRIPLE}]
linker = "${CROSS_LINKER}"
runner = ["${CROSS_RUNNER}", "-L", "/usr/aarch64-linux-gnu"]
`;

