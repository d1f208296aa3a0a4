// Engine benchmark on the fixture workspace (a temp copy): a fat build, then ≥10 one-line edits
// of the tip crate and ≥10 of the workspace crate, each built into a patch and applied to the
// running app. Reports the median of every PatchTimings field per kind of edit, and the bare
// rustc replay of a same-sized edit (the recorded rustc command(s) alone) for comparison: the
// difference is what the engine adds on top of the compiler.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { fatBuild, PatchBuilder, PatchTimings } from '../server/src/engine';
import { ENV_LINK_MODE, ENV_OBJDIR } from '../server/src/engine/recorder';
import { replayEnv } from '../server/src/engine/thin-build';
import { run } from '../server/src/support/process';

const FIXTURE = path.resolve(__dirname, '..', '..', 'test', 'fixtures', 'engine', 'ws');
const EDITS = 10;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function editMarked(file: string, marker: string, code: string): void {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(marker));
  lines[i] = `${code} ${marker}`;
  fs.writeFileSync(file, lines.join('\n'));
}

export async function benchEngine(log: (line: string) => void): Promise<Record<string, number>> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'subsecond-engine-bench-'));
  const ws = path.join(root, 'ws');
  fs.cpSync(FIXTURE, ws, { recursive: true });
  const out: Record<string, number> = {};
  let child: ReturnType<typeof spawn> | undefined;
  try {
    const fat = await fatBuild({
      manifestPath: path.join(ws, 'Cargo.toml'),
      workspaceRoot: ws,
      targetDir: path.join(ws, 'target'),
      packageName: 'app',
      binName: 'app',
      workspaceCrates: { app: ['wslib'], wslib: [] },
      sessionDir: path.join(ws, 'target', 'subsecond-lsp', 'app'),
    });
    if (!fat.ok) throw new Error(`fat build failed: ${fat.message}`);
    out.fatBuildMs = fat.ms;
    log(`fat build (cold, fixture): ${fat.ms} ms`);

    child = spawn(fat.build.exePath, [], { stdio: ['pipe', 'pipe', 'ignore'] });
    const lines: string[] = [];
    let tail = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      const parts = (tail + d).split('\n');
      tail = parts.pop() ?? '';
      lines.push(...parts);
    });
    const waitLine = async (re: RegExp, from: number): Promise<RegExpExecArray> => {
      for (let i = 0; i < 600; i++) {
        for (let j = from; j < lines.length; j++) {
          const m = re.exec(lines[j]);
          if (m) return m;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`app did not print ${re}`);
    };
    const aslr = Number((await waitLine(/^aslr (\d+)/, 0))[1]);
    const builder = new PatchBuilder(fat.build);
    const main = path.join(ws, 'app', 'src', 'main.rs');
    const lib = path.join(ws, 'wslib', 'src', 'lib.rs');
    const tipRec = fat.build.records['app.bin'];
    const libRec = fat.build.records['wslib.lib'];
    const bareDir = path.join(root, 'bare');

    const bare = async (recs: typeof tipRec[]): Promise<number> => {
      const t0 = performance.now();
      for (const rec of recs) {
        fs.rmSync(bareDir, { recursive: true, force: true });
        const env = replayEnv(rec.env, rec === tipRec ? { [ENV_LINK_MODE]: 'capture', [ENV_OBJDIR]: bareDir } : {});
        const r = await run(rec.rustc, rec.args, { cwd: rec.cwd, env });
        if (r.code !== 0) throw new Error(`bare rustc failed: ${r.stderr.slice(0, 500)}`);
      }
      return performance.now() - t0;
    };

    for (const kind of ['tip', 'ws'] as const) {
      const samples: PatchTimings[] = [];
      const bareMs: number[] = [];
      let linker = '';
      for (let i = 1; i <= EDITS; i++) {
        if (kind === 'tip') editMarked(main, '// EDIT:tip_value', `    ${100 + i}`);
        else editMarked(lib, '// EDIT:ws_value', `    ${1000 + i}`);
        const r = await builder.build({ changedCrates: [kind === 'tip' ? 'app' : 'wslib'], aslrReference: aslr });
        if (!r.ok) throw new Error(`patch failed at ${r.stage}: ${r.message}`);
        samples.push(r.timings);
        linker = r.linker;
        const from = lines.length;
        child.stdin!.write(JSON.stringify(r.jumpTable) + '\n');
        await waitLine(/^applied \d+/, from);
        // the same kind of one-line edit, compiled by the recorded rustc command(s) alone
        if (kind === 'tip') editMarked(main, '// EDIT:tip_value', `    ${500 + i}`);
        else editMarked(lib, '// EDIT:ws_value', `    ${5000 + i}`);
        bareMs.push(await bare(kind === 'tip' ? [tipRec] : [libRec, tipRec]));
      }
      // leave the source as the last patch had it
      if (kind === 'tip') editMarked(main, '// EDIT:tip_value', `    ${100 + EDITS}`);
      else editMarked(lib, '// EDIT:ws_value', `    ${1000 + EDITS}`);
      const fields = Object.keys(samples[0]) as Array<keyof PatchTimings>;
      const parts: string[] = [];
      for (const f of fields) {
        const m = Math.round(median(samples.map((s) => s[f])) * 10) / 10;
        out[`${kind}.${f}`] = m;
        parts.push(`${f.replace(/Ms$/, '')} ${m}`);
      }
      const b = Math.round(median(bareMs) * 10) / 10;
      out[`${kind}.bareRustcMs`] = b;
      log(`${kind} edit ×${EDITS} (median ms): ${parts.join(', ')}; bare rustc replay ${b}; linker ${linker}`);
    }
  } finally {
    if (child) {
      child.stdin?.end();
      child.kill();
    }
    fs.rmSync(root, { recursive: true, force: true });
  }
  return out;
}

if (require.main === module) {
  void benchEngine((l) => console.log(l)).then((r) => console.log(JSON.stringify(r, null, 2)));
}
