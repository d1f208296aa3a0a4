// dioxus/ — what subsecond-lsp knows about Dioxus apps (0.7, 0.8.0-alpha.3): which apps are Dioxus apps and web
// builds (app-kind.ts), which versions it patches (versions.ts), what their launch needs (launch-env.ts),
// their asset files (assets.ts), the rsx! static a patch must not share with the app (template-cache.ts)
// and when an rsx! edit reaches the app as a template update without a build (template-updates.ts). Plain knowledge:
// it imports nothing of the server, so engine, session and doctor may all use it.
export { dioxusAppOf, webBuildProblem, lockedPackages } from './app-kind';
export type { DioxusApp } from './app-kind';
export { dioxusLaunchEnv } from './launch-env';
export type { LaunchEnv } from './launch-env';
export { assetCallsIn, assetFile, reloadsInPlace } from './assets';
export { isRsxTemplateCache } from './template-cache';
export { templateUpdatesProblem, templateFileName, TEMPLATE_FORMAT_RELEASE } from './template-updates';
export { dioxusVersionVerdict, TESTED_DIOXUS } from './versions';
export type { DioxusVersionVerdict } from './versions';
