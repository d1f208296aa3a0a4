// engine/link-shim-main.ts — entry point of the fat-mode linker shim, a separate node process
// that rustc runs (through the sh shim from recorder.ts) when it links the tip crate in a fat build.
// It records what rustc asked for, links with whole-archive + --export-dynamic (fat-link.ts), and
// exits with the linker's status so rustc reports link errors as usual.
//
// It runs inside cargo's process group (a child of rustc), so the server's process tracking
// stops it with cargo; spawnSync is fine here because nothing else runs in this process.
// Never imports the LSP library or the devserver.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listArchiveFile } from './ar';
import { planFatLink, userLinker } from './fat-link';
import { ENV_FAT_LINK_RECORD, ENV_RECORD_DIR, ENV_SHIM_PATH, expandResponseFiles, FatLinkRecord, splitNul } from './recorder';

function main(): number {
  const t0 = Date.now();
  const args = expandResponseFiles(process.argv.slice(2));
  const recordFile = process.env[ENV_FAT_LINK_RECORD];
  const shimPath = process.env[ENV_SHIM_PATH] ?? '';

  // rustc was exec'd by the recorder, so its pid (our parent) names the tip's record: from it we
  // learn whether the user configured a linker that our `-C linker=` overrode.
  let driver = 'cc';
  const recDir = process.env[ENV_RECORD_DIR];
  if (recDir) {
    try {
      const rec = fs.readdirSync(recDir).find((f) => f.endsWith(`.${process.ppid}.args`));
      if (rec) {
        const rustcArgs = splitNul(fs.readFileSync(path.join(recDir, rec), 'utf8')).slice(1);
        driver = userLinker(rustcArgs, shimPath) ?? 'cc';
      }
    } catch {
      /* keep cc */
    }
  }

  const plan = planFatLink(args, (rlib) => {
    try {
      return listArchiveFile(rlib);
    } catch {
      return undefined;
    }
  });
  const r = spawnSync(driver, plan.finalArgs, { stdio: 'inherit' });
  let code = r.status;
  if (r.error) {
    process.stderr.write(`subsecond-link-shim: cannot run linker \`${driver}\`: ${r.error.message}\n`);
    code = 127;
  }
  if (recordFile) {
    const rec: FatLinkRecord = {
      args,
      finalArgs: plan.finalArgs,
      driver,
      cwd: process.cwd(),
      code,
      ms: Date.now() - t0,
      wholeArchived: plan.wholeArchived,
      keptAsIs: plan.keptAsIs,
    };
    const tmp = `${recordFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(rec, null, 1));
    fs.renameSync(tmp, recordFile);
  }
  return code ?? 1;
}

process.exitCode = main();
