// The evmesh command line: `evmesh start`, `evmesh config`, --version, --help.
// runCli takes everything it touches (env, output, signals, startBroker) as deps and resolves
// with the process exit code, so tests drive it in-process; main.ts only wires in `process`.
//
// Contract (docs/cli.md): stdout carries only `evmesh ready {ports JSON}` (start) or the
// requested output (config, --help, --version); everything else goes to stderr.
// Exit codes: 0 clean stop, 1 start/stop failure or forced exit, 2 bad config or usage.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import type { BrokerPorts, RunningBroker } from '../broker.js';
import { EvmeshError } from '../errors.js';
import { loadConfig, type ConfigOverrides } from '../config/load.js';
import { CONFIG_KEYS, envName, formatDefault, spec, type ConfigKey, type EvmeshConfig } from '../config/schema.js';

/** What the CLI needs of a running broker. */
export type CliBroker = Pick<RunningBroker, 'ports' | 'stop'>;
export type StartBroker = (config: EvmeshConfig) => Promise<CliBroker>;
export type CliSignal = 'SIGTERM' | 'SIGINT';

export interface CliDeps {
  startBroker: StartBroker;
  env: Readonly<Record<string, string | undefined>>;
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  /** Where SIGTERM/SIGINT arrive from (`process` in main.ts, an EventEmitter in tests). */
  signals: {
    on(signal: CliSignal, listener: (signal: CliSignal) => void): unknown;
    off(signal: CliSignal, listener: (signal: CliSignal) => void): unknown;
  };
  readFile?: (path: string) => string;
  version?: string;
}

const SIGNALS: readonly CliSignal[] = ['SIGTERM', 'SIGINT'];
const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** The broker entry, imported on first `start` so --help/--version/config stay light. */
async function importStartBroker(): Promise<StartBroker> {
  const broker: { startBroker?: StartBroker } = await import('../broker.js');
  if (typeof broker.startBroker !== 'function') throw new Error('src/broker.ts does not export startBroker');
  return broker.startBroker;
}

/** The version in evmesh's package.json (found from src/cli/ and from dist/src/cli/). */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'evmesh' && pkg.version) return pkg.version;
    } catch { /* not here; go up */ }
    const up = dirname(dir);
    if (up === dir) return '0.0.0';
    dir = up;
  }
}

export function processDeps(): CliDeps {
  return {
    startBroker: async (config) => (await importStartBroker())(config),
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    signals: process,
  };
}

function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/\s*\n\s*/g, ' ').trim();
}

/** `{"tcp":10000,…}`: the bound ports, only listeners that exist. */
export function readyLine(ports: BrokerPorts): string {
  const bound = Object.fromEntries(Object.entries(ports).filter(([, p]) => typeof p === 'number'));
  return `evmesh ready ${JSON.stringify(bound)}\n`;
}

/** Adds --config and one option per schema key that has a flag; returns attribute → key. */
function addConfigOptions(cmd: Command): Map<string, ConfigKey> {
  cmd.addOption(new Option('-c, --config <file>', `config file, YAML (.yaml/.yml) or JSON (.json) [env EVMESH_CONFIG]`));
  const keys = new Map<string, ConfigKey>();
  for (const key of CONFIG_KEYS) {
    const s = spec(key);
    if (!s.flag) continue;
    const metavar = s.kind === 'enum' ? s.values!.join('|') : s.metavar ?? 'value';
    const opt = new Option(`${s.flag} <${metavar}>`, `${s.description} [${key}, env ${envName(key)}, default ${formatDefault(key)}]`);
    cmd.addOption(opt);
    keys.set(opt.attributeName(), key);
  }
  return keys;
}

function flagValues(opts: Record<string, unknown>, keys: Map<string, ConfigKey>): ConfigOverrides {
  const flags: ConfigOverrides = {};
  for (const [attr, key] of keys) {
    const v = opts[attr];
    if (typeof v === 'string') flags[key] = v;
  }
  return flags;
}

async function runStart(config: EvmeshConfig, deps: CliDeps): Promise<number> {
  const say = (level: (typeof LEVELS)[number], msg: string) => {
    if (LEVELS.indexOf(level) >= LEVELS.indexOf(config.logLevel)) deps.stderr.write(`evmesh: ${msg}\n`);
  };
  const timeoutMs = config.shutdown.timeoutMs;
  let done = false;
  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((resolve) => { resolveExit = resolve; });
  const finish = (code: number) => { done = true; resolveExit(code); };
  let broker: CliBroker | undefined;
  let signalled: CliSignal | undefined;
  let timer: NodeJS.Timeout | undefined;

  const stop = (b: CliBroker, sig: CliSignal) => {
    say('info', `${sig} received; stopping (timeout ${timeoutMs} ms)`);
    timer = setTimeout(() => {
      say('error', `shutdown did not finish within ${timeoutMs} ms (shutdown.timeoutMs); exiting`);
      finish(1);
    }, timeoutMs);
    Promise.resolve().then(() => b.stop()).then(
      () => { say('info', 'stopped'); finish(0); },
      (err: unknown) => { say('error', `stop failed: ${oneLine(err)}`); finish(1); },
    );
  };
  const onSignal = (sig: CliSignal) => {
    if (signalled) {
      say('error', `second ${sig} received; exiting now`);
      finish(1);
      return;
    }
    signalled = sig;
    if (broker) stop(broker, sig);
    else say('info', `${sig} received while starting; stopping once started`);
  };

  for (const s of SIGNALS) deps.signals.on(s, onSignal);
  try {
    Promise.resolve().then(() => deps.startBroker(config)).then(
      (b) => {
        broker = b;
        if (done) void Promise.resolve().then(() => b.stop()).catch(() => undefined); // a second signal already forced the exit
        else if (signalled) stop(b, signalled);
        else deps.stdout.write(readyLine(b.ports));
      },
      (err: unknown) => {
        const bad = err instanceof EvmeshError && err.code === 'EVM_BAD_CONFIG';
        say('error', bad ? oneLine(err) : `failed to start: ${oneLine(err)}`);
        finish(bad ? 2 : 1);
      },
    );
    return await exited;
  } finally {
    for (const s of SIGNALS) deps.signals.off(s, onSignal);
    clearTimeout(timer);
  }
}

/** Builds the commander program; `setCode` receives each command's outcome as an exit code. */
export function buildProgram(deps: CliDeps, setCode: (code: number) => void): Command {
  const program = new Command('evmesh')
    .description('evmesh: an Apache EventMesh wire-compatible event-mesh broker')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => deps.stdout.write(s),
      writeErr: (s) => deps.stderr.write(s),
      outputError: (s, write) => write(`evmesh: ${oneLine(s).replace(/^error: /, '')}\n`),
    })
    .version(deps.version ?? packageVersion(), '-V, --version', 'print the version and exit');

  const load = (opts: Record<string, unknown>, keys: Map<string, ConfigKey>): EvmeshConfig => {
    const config = opts['config'];
    return loadConfig({
      flags: flagValues(opts, keys),
      env: deps.env,
      ...(typeof config === 'string' ? { file: config } : {}),
      ...(deps.readFile ? { readFile: deps.readFile } : {}),
      warn: (msg) => deps.stderr.write(`evmesh: warning: ${msg}\n`),
    });
  };

  const start = program.command('start').description('start the broker; prints one `evmesh ready {…}` line on stdout once listening');
  const startKeys = addConfigOptions(start);
  start.action(async (opts: Record<string, unknown>) => {
    setCode(await runStart(load(opts, startKeys), deps));
  });

  const config = program.command('config').description('print the effective configuration (defaults ← file ← env ← flags) as JSON and exit');
  const configKeys = addConfigOptions(config);
  config.action((opts: Record<string, unknown>) => {
    deps.stdout.write(JSON.stringify(load(opts, configKeys), null, 2) + '\n');
    setCode(0);
  });
  return program;
}

/** Runs the evmesh command line (argv without node and script) and resolves with the exit code. */
export async function runCli(argv: readonly string[], deps: Partial<CliDeps> = {}): Promise<number> {
  const full: CliDeps = { ...processDeps(), ...deps };
  let code = 0;
  const program = buildProgram(full, (c) => { code = c; });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2; // help/version, or usage error (already printed)
    full.stderr.write(`evmesh: ${oneLine(err)}\n`);
    return err instanceof EvmeshError && err.code === 'EVM_BAD_CONFIG' ? 2 : 1;
  }
}
