// Typed frame bodies (spec T19–T23): UserAgent (HELLO, RECOMMEND), Subscription (SUBSCRIBE),
// RedirectInfo (REDIRECT_TO_CLIENT). A typed body that does not parse is a frame error (T5):
// EVM_BAD_FRAME, the connection closes. Semantic checks (purpose, group …) belong to the session.
import { EvmeshError } from '../../errors.js';

export interface UserAgent {
  readonly env?: string;
  readonly subsystem?: string;
  readonly path?: string;
  readonly pid?: number;
  readonly host?: string;
  readonly port?: number;
  readonly version?: string;
  readonly username?: string;
  readonly password?: string;
  readonly token?: string;
  readonly idc?: string;
  readonly group?: string;
  readonly purpose?: string;
  readonly unack?: number;
}

export type SubscriptionMode = 'CLUSTERING' | 'BROADCASTING';
export type SubscriptionType = 'ASYNC' | 'SYNC';

export interface SubscriptionItem {
  readonly topic: string;
  readonly mode: SubscriptionMode;
  readonly type: SubscriptionType;
}

export interface RedirectInfo {
  readonly ip: string;
  readonly port: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function bad(what: string, message: string): EvmeshError {
  return new EvmeshError('EVM_BAD_FRAME', `${what} body: ${message}`);
}

function parseObject(what: string, body: Uint8Array): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(body));
  } catch {
    throw bad(what, 'not UTF-8 JSON');
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw bad(what, 'not a JSON object');
  return json as Record<string, unknown>;
}

const UA_STRINGS = ['env', 'subsystem', 'path', 'host', 'version', 'username', 'password', 'token', 'idc', 'group', 'purpose'] as const;
const UA_INTS = ['pid', 'port', 'unack'] as const;

/** T20. Unknown keys are ignored (Jackson default of the upstream runtime). */
export function parseUserAgent(body: Uint8Array | undefined): UserAgent | undefined {
  if (body === undefined) return undefined;
  const o = parseObject('UserAgent', body);
  const ua: Record<string, string | number> = {};
  for (const k of UA_STRINGS) {
    const v = o[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw bad('UserAgent', `${k} must be a string`);
    ua[k] = String(v);
  }
  for (const k of UA_INTS) {
    const v = o[k];
    if (v === undefined || v === null) continue;
    const n = typeof v === 'string' && /^-?\d{1,10}$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n)) throw bad('UserAgent', `${k} must be an integer`);
    ua[k] = n;
  }
  return ua as UserAgent;
}

const MODES: readonly string[] = ['CLUSTERING', 'BROADCASTING'];
const TYPES: readonly string[] = ['ASYNC', 'SYNC'];

/** T21: `{"topicList":[{"topic","mode","type"}]}`; mode/type are exact upper-case names. */
export function parseSubscription(body: Uint8Array | undefined): SubscriptionItem[] | undefined {
  if (body === undefined) return undefined;
  const o = parseObject('Subscription', body);
  if (o.topicList === undefined || o.topicList === null) return [];
  if (!Array.isArray(o.topicList)) throw bad('Subscription', 'topicList must be an array');
  return o.topicList.map((item: unknown, i): SubscriptionItem => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) throw bad('Subscription', `topicList[${i}] must be an object`);
    const { topic, mode, type } = item as Record<string, unknown>;
    if (topic !== undefined && topic !== null && typeof topic !== 'string') throw bad('Subscription', `topicList[${i}].topic must be a string`);
    if (mode !== undefined && mode !== null && !MODES.includes(mode as string)) throw bad('Subscription', `topicList[${i}].mode must be CLUSTERING or BROADCASTING`);
    if (type !== undefined && type !== null && !TYPES.includes(type as string)) throw bad('Subscription', `topicList[${i}].type must be ASYNC or SYNC`);
    return {
      topic: (topic ?? '') as string,
      mode: (mode ?? 'CLUSTERING') as SubscriptionMode,
      type: (type ?? 'ASYNC') as SubscriptionType,
    };
  });
}

/** T23. */
export function parseRedirectInfo(body: Uint8Array | undefined): RedirectInfo | undefined {
  if (body === undefined) return undefined;
  const o = parseObject('RedirectInfo', body);
  if (typeof o.ip !== 'string' || typeof o.port !== 'number' || !Number.isInteger(o.port)) throw bad('RedirectInfo', 'needs ip (string) and port (integer)');
  return { ip: o.ip, port: o.port };
}

/** Java key order (T20): env, subsystem, path, pid, host, port, version, username, password,
 *  token, idc, group, purpose, unack; absent values omitted, ints always present. */
export function userAgentJson(ua: UserAgent): string {
  const out: Record<string, unknown> = {};
  const order = ['env', 'subsystem', 'path', 'pid', 'host', 'port', 'version', 'username', 'password', 'token', 'idc', 'group', 'purpose', 'unack'] as const;
  for (const k of order) {
    const v = ua[k];
    if (v !== undefined) out[k] = v;
    else if (k === 'pid' || k === 'port' || k === 'unack') out[k] = 0;
  }
  return JSON.stringify(out);
}

export function subscriptionJson(items: readonly SubscriptionItem[]): string {
  return JSON.stringify({ topicList: items.map((i) => ({ topic: i.topic, mode: i.mode, type: i.type })) });
}
