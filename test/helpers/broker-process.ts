// Runs the real `evmesh start` CLI as a child process (through tsx, no build needed) and waits
// for its ready line. Used by the crash, shutdown and CLI end-to-end tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

export interface BrokerProcess {
  readonly child: ChildProcess;
  readonly ports: Record<string, number>;
  /** Everything the child wrote to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (or the signal name). */
  readonly exited: Promise<number | string>;
}

export async function startBrokerProcess(args: string[], env: Record<string, string> = {}, readyTimeoutMs = 30_000): Promise<BrokerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'start', ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const ports = await new Promise<Record<string, number>>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no ready line within ${readyTimeoutMs} ms; stderr: ${err}`)); }, readyTimeoutMs);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /^evmesh ready (\{.*\})$/m.exec(out);
      if (m) { clearTimeout(timer); resolve(JSON.parse(m[1]!) as Record<string, number>); }
    });
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`broker exited (${code}) before ready; stderr: ${err}`)); });
  });
  return { child, ports, stderr: () => err, exited };
}
