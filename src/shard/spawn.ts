// Starts a worker thread for a module URL. Workers inherit the parent's execArgv (Node's default).
// A .ts entry (tests and benches run from sources through tsx) needs one more step on Node 20:
// tsx's `--import` hook registers itself on the main thread only, so the worker is started from
// a tiny bootstrap that registers tsx's ESM hooks in the worker and then imports the entry.
// Compiled entries (dist/**/*.js) start directly.
import { Worker, type WorkerOptions } from 'node:worker_threads';

const TS_ENTRY = /\.[mc]?ts$/;

export function spawnWorker(entry: URL, options: WorkerOptions = {}): Worker {
  if (!TS_ENTRY.test(entry.pathname)) return new Worker(entry, options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(boot, { ...options, eval: true });
}
