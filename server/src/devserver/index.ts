// Public face of the devserver: the WebSocket server apps connect to and its wire format.
// See server.ts for what it owns; nothing here builds or analyses code.
export { DevServer, devserverEnv, newLaunchSecret, LAUNCH_SECRET_ENV, SECRET_HEADER } from './server';
export { PROBE_ENV, MAX_PATCH_LIBRARY_BYTES } from './patch-library';
export type { PatchLibraryDelivery } from './patch-library';
export type { AppConnection, PatchDelivery, SendPatchOptions, DevServerEvents, ListenOptions, PeerCheck } from './server';
export type { JumpTable, AgentMessage, DevserverCommand, DetourReport, DetourPlanMessage } from './protocol';
export { detouredByReport } from './protocol';
