// loadConfig: defaults → config file (YAML/JSON) → EVMESH_* environment → flags, each layer
// validated against SCHEMA as it is applied. A bad value fails with one EVM_BAD_CONFIG line
// naming the key, the value, what is allowed and where the value came from.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import { EvmeshError } from '../errors.js';
import {
  CONFIG_FILE_ENV, CONFIG_KEYS, defaultValue, describeAllowed, envName, isConfigKey, spec,
  type ConfigKey, type EvmeshConfig,
} from './schema.js';

/** Values set by flags (or by code), keyed by config key. Strings are parsed like env values. */
export type ConfigOverrides = { [K in ConfigKey]?: string | number | boolean };

export interface LoadOptions {
  /** The highest layer: `evmesh start` flags, or overrides from code/tests. */
  flags?: ConfigOverrides;
  /** Environment variables (pass process.env explicitly; nothing is read implicitly). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Config file path (`--config`); when absent, env EVMESH_CONFIG; when both absent, no file. */
  file?: string;
  /** Reads the config file; defaults to fs.readFileSync(path, 'utf8'). */
  readFile?: (path: string) => string;
  /** Receives warnings (an EVMESH_* variable that names no key). */
  warn?: (message: string) => void;
}

const SIZE_UNITS: Record<string, number> = { b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4 };
const TOPIC_CHARS = /^[A-Za-z0-9._-]+$/;

function badConfig(message: string): EvmeshError {
  return new EvmeshError('EVM_BAD_CONFIG', message.replace(/\s*\n\s*/g, ' '));
}

function show(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function badValue(key: string, value: unknown, source: string, allowed: string): EvmeshError {
  return badConfig(`config key ${key}: ${show(value)} is not ${allowed} (from ${source})`);
}

function parseIntText(text: string): number | undefined {
  if (!/^[+-]?\d+$/.test(text.trim())) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

function parseSizeText(text: string): number | undefined {
  const m = /^\s*([+-]?\d+(?:\.\d+)?)\s*([a-z]+)?\s*$/i.exec(text);
  if (!m) return undefined;
  const factor = SIZE_UNITS[(m[2] ?? 'b').toLowerCase()];
  if (factor === undefined) return undefined;
  const n = Number(m[1]) * factor;
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Coerces one raw value to the key's type and checks it. `text` is true for env and string
 * flags (everything arrives as a string); file values must already have the right JSON type,
 * except sizes, which may be strings with units.
 */
export function coerceValue(key: ConfigKey, raw: unknown, source: string, text: boolean): unknown {
  const s = spec(key);
  const fail = () => badValue(key, raw, source, describeAllowed(key));
  const asInt = (): number | undefined =>
    typeof raw === 'number' ? (Number.isSafeInteger(raw) ? raw : undefined)
      : typeof raw === 'string' && text ? parseIntText(raw) : undefined;
  const inRange = (n: number | undefined): number => {
    if (n === undefined) throw fail();
    if (s.unlimited && n === -1) return n;
    if ((s.min !== undefined && n < s.min) || (s.max !== undefined && n > s.max)) throw fail();
    if (s.powerOfTwo && (n <= 0 || (n & (n - 1)) !== 0)) throw fail();
    return n;
  };
  switch (s.kind) {
    case 'string':
      if (typeof raw !== 'string' || (s.pattern ? !s.pattern.test(raw) : raw.trim() === '')) throw fail();
      return raw;
    case 'enum':
      if (typeof raw !== 'string' || !s.values!.includes(raw)) throw fail();
      return raw;
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (text && typeof raw === 'string') {
        const t = raw.trim().toLowerCase();
        if (t === 'true' || t === '1') return true;
        if (t === 'false' || t === '0') return false;
      }
      throw fail();
    case 'integer':
    case 'duration':
      return inRange(asInt());
    case 'size':
      return inRange(typeof raw === 'string' ? parseSizeText(raw) : asInt());
    case 'template': {
      if (typeof raw !== 'string') throw fail();
      const used = [...raw.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1]!);
      const literal = raw.replace(/\{[^{}]*\}/g, 'x');
      if (used.length === 0 || !used.every((p) => s.placeholders!.includes(p)) || !TOPIC_CHARS.test(literal)) throw fail();
      return raw;
    }
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const GROUPS = new Set(CONFIG_KEYS.flatMap((k) => k.split('.').slice(0, -1).map((_, i, segs) => segs.slice(0, i + 1).join('.'))));

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(up + 1, row[j - 1]! + 1, diag + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}

function suggestion(path: string): string {
  const candidates = [...CONFIG_KEYS, ...GROUPS];
  let best: string | undefined, bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(path, c);
    if (d < bestD) { best = c; bestD = d; }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(path.length / 4)) ? `; did you mean ${best}?` : '';
}

/** Parses a config file's text: YAML for .yaml/.yml, JSON for .json. Returns a plain object. */
export function parseConfigFile(path: string, content: string): Record<string, unknown> {
  const ext = extname(path).toLowerCase();
  let data: unknown;
  if (ext === '.json') {
    try {
      data = JSON.parse(content);
    } catch (err) {
      throw badConfig(`config file ${path}: invalid JSON: ${(err as Error).message}`);
    }
  } else if (ext === '.yaml' || ext === '.yml') {
    const doc = parseDocument(content);
    const err = doc.errors[0];
    if (err) {
      const at = err.linePos ? ` at line ${err.linePos[0].line}, column ${err.linePos[0].col}` : '';
      const what = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      throw badConfig(`config file ${path}: invalid YAML${at}: ${what}`);
    }
    data = doc.toJS();
  } else {
    throw badConfig(`config file ${path}: unknown extension "${ext}"; use .yaml, .yml or .json`);
  }
  if (data === null || data === undefined) return {};
  if (!isPlainObject(data)) throw badConfig(`config file ${path}: the top level must be a mapping of config keys`);
  return data;
}

type Layer = Map<ConfigKey, { value: unknown; source: string }>;

function applyFile(layer: Layer, obj: Record<string, unknown>, prefix: string, source: string): void {
  for (const [k, v] of Object.entries(obj)) {
    const path = prefix + k;
    if (k.includes('.')) {
      throw badConfig(`config key ${path}: dotted names are not allowed in a file; nest them as ${k.split('.').join(': { ')}: … (from ${source})`);
    }
    if (isConfigKey(path)) {
      layer.set(path, { value: coerceValue(path, v, source, false), source });
    } else if (GROUPS.has(path)) {
      if (!isPlainObject(v)) throw badConfig(`config key ${path}: ${show(v)} is not a mapping of ${path}.* keys (from ${source})`);
      applyFile(layer, v, path + '.', source);
    } else {
      throw badConfig(`config key ${path}: unknown key (from ${source})${suggestion(path)}`);
    }
  }
}

const ENV_KEYS = new Map(CONFIG_KEYS.map((k) => [envName(k), k] as const));

/** Where a flag-layer value says it came from: its flag, or "override <key>" when set by code. */
function flagSource(key: ConfigKey): string {
  return spec(key).flag ?? `override ${key}`;
}

function checkPorts(layer: Layer): void {
  const seen = new Map<number, ConfigKey>();
  for (const key of CONFIG_KEYS) {
    if (!key.startsWith('ports.')) continue;
    const { value, source } = layer.get(key)!;
    const port = value as number;
    if (port === 0) continue;
    const other = seen.get(port);
    if (other) throw badConfig(`config key ${key}: ${port} is already used by ${other}; each listener needs its own port (from ${source})`);
    seen.set(port, key);
  }
}

/** Builds { a: { b: v } } from { 'a.b': v }. */
function unflatten(layer: Layer): EvmeshConfig {
  const out: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const segs = key.split('.');
    let node = out;
    for (const seg of segs.slice(0, -1)) node = (node[seg] ??= {}) as Record<string, unknown>;
    node[segs[segs.length - 1]!] = layer.get(key)!.value;
  }
  return out as EvmeshConfig;
}

export function loadConfig(opts: LoadOptions = {}): EvmeshConfig {
  const env = opts.env ?? {};
  const layer: Layer = new Map(CONFIG_KEYS.map((k) => [k, { value: defaultValue(k), source: 'default' }]));

  const file = opts.file ?? (env[CONFIG_FILE_ENV] || undefined);
  if (file !== undefined) {
    let content: string;
    try {
      content = (opts.readFile ?? ((p: string) => readFileSync(p, 'utf8')))(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw badConfig(`config file ${file}: cannot read it (${code ?? (err as Error).message})`);
    }
    applyFile(layer, parseConfigFile(file, content), '', `file ${file}`);
  }

  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('EVMESH_') || value === undefined || value === '') continue;
    const key = ENV_KEYS.get(name);
    if (key) layer.set(key, { value: coerceValue(key, value, name, true), source: name });
    else if (name !== CONFIG_FILE_ENV) opts.warn?.(`environment variable ${name} names no config key; ignored`);
  }

  for (const [key, value] of Object.entries(opts.flags ?? {})) {
    if (value === undefined) continue;
    if (!isConfigKey(key)) throw badConfig(`config key ${key}: unknown key (from override ${key})${suggestion(key)}`);
    const source = flagSource(key);
    layer.set(key, { value: coerceValue(key, value, source, typeof value === 'string'), source });
  }

  checkPorts(layer);
  return unflatten(layer);
}

/** The defaults alone (what loadConfig() returns with no file, env or flags). */
export function defaultConfig(): EvmeshConfig {
  return loadConfig();
}
