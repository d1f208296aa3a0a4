// dioxus/launch-env.ts — what a Dioxus app needs in its environment when we launch it.
//
// `asset!("/assets/main.css")` resolves at run time through manganis (0.7, manganis-core
// asset.rs): in a *bundled* app it becomes `/assets/<hashed name>`, a name dx writes into the
// binary's asset link sections and a file dx copies next to the executable. We build with cargo,
// not dx, so those names were never written: bundled, the stylesheet would 404. Unbundled (as
// under `cargo run`) it resolves to the source file itself, which the desktop renderer serves
// from disk, fresh on every request — which is also what makes an edited stylesheet reloadable.
// manganis decides "bundled" from `DIOXUS_CLI_ENABLED` (set: bundled) and else
// `CARGO_MANIFEST_DIR` (set: not bundled) (dioxus-core-types bundled.rs). So a Dioxus app gets
// `cargo run`'s CARGO_MANIFEST_DIR and not dx's DIOXUS_CLI_ENABLED; the devserver variables
// (DIOXUS_DEVSERVER_IP/PORT, DIOXUS_BUILD_ID), which the devtools client connects with, stay.
import type { DioxusApp } from './app-kind';

export interface LaunchEnv {
  set: Record<string, string>;
  unset: string[];
}

export function dioxusLaunchEnv(app: DioxusApp | undefined, packageDir: string): LaunchEnv {
  if (!app?.assets) return { set: {}, unset: [] };
  return { set: { CARGO_MANIFEST_DIR: packageDir }, unset: ['DIOXUS_CLI_ENABLED'] };
}
