// Save → live for an app cross-built for aarch64 and run under qemu-user, next to the same app
// built for the host: the counter's tip and workspace crates, 10 one-line edits each (the
// server's own timings, as the `patch` benchmark). Needs the cross tools (see .ci/run); run by
// name only: `npm run bench -- cross` (a cold aarch64 build of the counter takes minutes).
import { CROSS_CONFIG, crossToolsMissing } from '../test/support/cross-target';
import { benchSaveToPatch } from './save-to-patch-bench';
import { fmt } from './stats';

export async function benchCross(log: (line: string) => void): Promise<Record<string, number>> {
  const missing = crossToolsMissing();
  if (missing) throw new Error(missing);
  const out: Record<string, number> = {};
  const runs: Array<[string, Parameters<typeof benchSaveToPatch>[2]]> = [
    ['native', { fixtureName: 'subsecond-lsp-bench' }],
    ['aarch64-qemu', { fixtureName: 'subsecond-lsp-bench-cross-aarch64', cargoConfig: CROSS_CONFIG, settings: { cargoArgs: ['--target', 'aarch64-unknown-linux-gnu'] } }],
  ];
  for (const [tag, options] of runs) {
    const r = await benchSaveToPatch(() => undefined, 10, options);
    for (const kind of ['tip', 'workspace']) {
      log(`${tag}: ${kind} crate, save → live median ${fmt(r[`${kind}.totalMs`])} (rustc ${fmt(r[`${kind}.rustcMs`])}, link ${fmt(r[`${kind}.linkMs`])}, relay ${fmt(r[`${kind}.relayMs`])}, apply ${fmt(r[`${kind}.applyMs`])})`);
      out[`${tag}.${kind}.totalMs`] = r[`${kind}.totalMs`];
      out[`${tag}.${kind}.applyMs`] = r[`${kind}.applyMs`];
    }
  }
  return out;
}
