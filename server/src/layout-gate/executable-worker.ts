// Reads an executable's layouts off the main thread (index.ts starts it once per launch): a large
// debug binary takes a while to read, and the WebAssembly memory that held its debug sections is
// freed with the worker instead of staying with the server's instance (wasm memory never shrinks).
import { parentPort, workerData } from 'node:worker_threads';
import { readExecutableLayouts } from './read';

const { exePath, crates, roots } = workerData as { exePath: string; crates: string[]; roots: string[] };
try {
  parentPort!.postMessage({ ok: true, report: readExecutableLayouts(exePath, crates, roots) });
} catch (e) {
  parentPort!.postMessage({ ok: false, message: (e as Error).message });
}
