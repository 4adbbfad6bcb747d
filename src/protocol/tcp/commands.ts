// The EventMesh TCP command table (spec T18): the Java enum constant names in ordinal order —
// the ordinal is the documented value, and a numeric `cmd` is read as that ordinal (T8).

export const COMMANDS = [
  'HEARTBEAT_REQUEST', 'HEARTBEAT_RESPONSE', 'HELLO_REQUEST', 'HELLO_RESPONSE',
  'CLIENT_GOODBYE_REQUEST', 'CLIENT_GOODBYE_RESPONSE', 'SERVER_GOODBYE_REQUEST', 'SERVER_GOODBYE_RESPONSE',
  'SUBSCRIBE_REQUEST', 'SUBSCRIBE_RESPONSE', 'UNSUBSCRIBE_REQUEST', 'UNSUBSCRIBE_RESPONSE',
  'LISTEN_REQUEST', 'LISTEN_RESPONSE', 'REQUEST_TO_SERVER', 'REQUEST_TO_CLIENT',
  'REQUEST_TO_CLIENT_ACK', 'RESPONSE_TO_SERVER', 'RESPONSE_TO_CLIENT', 'RESPONSE_TO_CLIENT_ACK',
  'ASYNC_MESSAGE_TO_SERVER', 'ASYNC_MESSAGE_TO_SERVER_ACK', 'ASYNC_MESSAGE_TO_CLIENT', 'ASYNC_MESSAGE_TO_CLIENT_ACK',
  'BROADCAST_MESSAGE_TO_SERVER', 'BROADCAST_MESSAGE_TO_SERVER_ACK', 'BROADCAST_MESSAGE_TO_CLIENT', 'BROADCAST_MESSAGE_TO_CLIENT_ACK',
  'SYS_LOG_TO_LOGSERVER', 'TRACE_LOG_TO_LOGSERVER', 'REDIRECT_TO_CLIENT', 'REGISTER_REQUEST',
  'REGISTER_RESPONSE', 'UNREGISTER_REQUEST', 'UNREGISTER_RESPONSE', 'RECOMMEND_REQUEST',
  'RECOMMEND_RESPONSE',
] as const;

export type Command = (typeof COMMANDS)[number];

const BY_NAME: ReadonlyMap<string, Command> = new Map(COMMANDS.map((c) => [c, c]));

/** A `cmd`/`command` JSON value → Command: exact upper-case name or ordinal (T8); else undefined. */
export function commandOf(value: unknown): Command | undefined {
  if (typeof value === 'string') return BY_NAME.get(value);
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < COMMANDS.length) return COMMANDS[value];
  return undefined;
}

/** The reply command the server uses for a request that fails before or during dispatch (T26);
 *  commands without one are echoed. */
export const REPLY_OF: Readonly<Partial<Record<Command, Command>>> = {
  HEARTBEAT_REQUEST: 'HEARTBEAT_RESPONSE',
  HELLO_REQUEST: 'HELLO_RESPONSE',
  SUBSCRIBE_REQUEST: 'SUBSCRIBE_RESPONSE',
  UNSUBSCRIBE_REQUEST: 'UNSUBSCRIBE_RESPONSE',
  LISTEN_REQUEST: 'LISTEN_RESPONSE',
  CLIENT_GOODBYE_REQUEST: 'CLIENT_GOODBYE_RESPONSE',
  REQUEST_TO_SERVER: 'RESPONSE_TO_CLIENT',
  ASYNC_MESSAGE_TO_SERVER: 'ASYNC_MESSAGE_TO_SERVER_ACK',
  BROADCAST_MESSAGE_TO_SERVER: 'BROADCAST_MESSAGE_TO_SERVER_ACK',
  RECOMMEND_REQUEST: 'RECOMMEND_RESPONSE',
};

export function replyCommand(cmd: Command): Command {
  return REPLY_OF[cmd] ?? cmd;
}

/** How the body of each command is decoded (T19). */
export type BodyKind = 'userAgent' | 'subscription' | 'redirect' | 'raw' | 'none';

export function bodyKind(cmd: Command): BodyKind {
  switch (cmd) {
    case 'HELLO_REQUEST': case 'RECOMMEND_REQUEST': return 'userAgent';
    case 'SUBSCRIBE_REQUEST': case 'UNSUBSCRIBE_REQUEST': return 'subscription';
    case 'REDIRECT_TO_CLIENT': return 'redirect';
    case 'REQUEST_TO_SERVER': case 'REQUEST_TO_CLIENT': case 'REQUEST_TO_CLIENT_ACK':
    case 'RESPONSE_TO_SERVER': case 'RESPONSE_TO_CLIENT': case 'RESPONSE_TO_CLIENT_ACK':
    case 'ASYNC_MESSAGE_TO_SERVER': case 'ASYNC_MESSAGE_TO_SERVER_ACK':
    case 'ASYNC_MESSAGE_TO_CLIENT': case 'ASYNC_MESSAGE_TO_CLIENT_ACK':
    case 'BROADCAST_MESSAGE_TO_SERVER': case 'BROADCAST_MESSAGE_TO_SERVER_ACK':
    case 'BROADCAST_MESSAGE_TO_CLIENT': case 'BROADCAST_MESSAGE_TO_CLIENT_ACK':
    case 'CLIENT_GOODBYE_REQUEST': case 'CLIENT_GOODBYE_RESPONSE':
    case 'SERVER_GOODBYE_REQUEST': case 'SERVER_GOODBYE_RESPONSE':
    case 'RECOMMEND_RESPONSE':
      return 'raw';
    default: return 'none';
  }
}

/** OPStatus codes (T67). */
export const OP_SUCCESS = 0;
export const OP_FAIL = 1;
