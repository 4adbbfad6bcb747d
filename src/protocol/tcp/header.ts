// The header JSON of an EventMesh TCP frame (spec T7–T10). Receivers ignore unknown keys and
// key order; `cmd` is an enum name or ordinal, with `command` as the fallback (T8, T91 a/b).
import { EvmeshError } from '../../errors.js';
import { commandOf, type Command } from './commands.js';

export interface Header {
  /** undefined = the frame named no command (T8: the server says goodbye and closes). */
  readonly cmd: Command | undefined;
  readonly code: number;
  readonly desc?: string | undefined;
  readonly seq?: string | undefined;
  /** String → JSON value; `{}` when absent (T10). */
  readonly properties: Readonly<Record<string, unknown>>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function bad(message: string): EvmeshError {
  return new EvmeshError('EVM_BAD_FRAME', `header: ${message}`);
}

/** UTF-8 JSON bytes → Header; throws EVM_BAD_FRAME (T5) on anything undecodable. */
export function parseHeader(bytes: Uint8Array): Header {
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(bytes));
  } catch {
    throw bad('not UTF-8 JSON');
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw bad('not a JSON object');
  const o = json as Record<string, unknown>;
  // T8: `cmd` is what the runtime reads; a frame with only `command` (old C/Go SDKs) falls back to it.
  const raw = o.cmd ?? o.command;
  let cmd: Command | undefined;
  if (raw !== undefined && raw !== null) {
    cmd = commandOf(raw);
    if (cmd === undefined) throw bad(`unknown command ${JSON.stringify(raw).slice(0, 64)}`);
  }
  let code = 0;
  if (o.code !== undefined && o.code !== null) {
    const n = typeof o.code === 'string' && /^-?\d{1,10}$/.test(o.code) ? Number(o.code) : o.code;
    if (typeof n !== 'number' || !Number.isInteger(n)) throw bad('code must be an integer');
    code = n;
  }
  const desc = o.desc === undefined || o.desc === null ? undefined : String(o.desc);
  let seq: string | undefined;
  if (o.seq !== undefined && o.seq !== null) {
    if (typeof o.seq !== 'string' && typeof o.seq !== 'number') throw bad('seq must be a string');
    seq = String(o.seq);
  }
  let properties: Record<string, unknown> = {};
  if (o.properties !== undefined && o.properties !== null) {
    if (typeof o.properties !== 'object' || Array.isArray(o.properties)) throw bad('properties must be an object');
    properties = o.properties as Record<string, unknown>;
  }
  return { cmd, code, desc, seq, properties };
}

/** Serialisations of frozen property objects: replies (`{}`), pushes and the SDK's publishes
 *  use a few constant property sets, and JSON.stringify of one cost ~0.3 µs per frame. */
const frozenJson = new WeakMap<object, string>();

function propertiesJson(p: Readonly<Record<string, unknown>>): string {
  if (!Object.isFrozen(p)) return JSON.stringify(p);
  let json = frozenJson.get(p);
  if (json === undefined) frozenJson.set(p, json = JSON.stringify(p));
  return json;
}

/** Header → compact JSON text in Java's key order (T7): cmd, code, desc, seq, properties, command.
 *  `command` duplicates `cmd` for old C/Go clients (T8). */
export function headerJson(h: Header): string {
  const cmd = h.cmd === undefined ? '' : `"cmd":"${h.cmd}",`;
  const desc = h.desc === undefined ? '' : `,"desc":${JSON.stringify(h.desc)}`;
  const seq = h.seq === undefined ? '' : `,"seq":${JSON.stringify(h.seq)}`;
  const command = h.cmd === undefined ? '' : `,"command":"${h.cmd}"`;
  return `{${cmd}"code":${h.code}${desc}${seq},"properties":${propertiesJson(h.properties)}${command}}`;
}

/** Frozen (serialised once, see headerJson) empty properties, as replies carry (T7). */
export const NO_PROPERTIES: Readonly<Record<string, never>> = Object.freeze({});
