// EventMesh HTTP answers (spec H4, H6, H31): HTTP 200 with a retCode JSON body typed
// text/plain, the request code echoed in the `code` header, identity headers of the mesh.
import { ERRORS, toEvmeshError } from '../../errors.js';
import type { Exchange } from './exchange.js';

/** Identity headers upstream sends on send/reply/subscribe-style answers (H6). */
export const MESH_HEADERS: Readonly<Record<string, string>> = {
  eventmeshcluster: 'evmesh', eventmeshenv: 'evmesh', eventmeshidc: 'evmesh', eventmeship: '127.0.0.1',
};

const TEXT = 'text/plain; charset=UTF-8';

/** Legacy request-code answer (H6). */
export function codeReply(ex: Exchange, code: string, retCode: number, retMsg: string, mesh = true, status = 200): void {
  const headers: Record<string, string> = mesh ? { 'content-type': TEXT, code, ...MESH_HEADERS } : { 'content-type': TEXT, code };
  ex.send(status, JSON.stringify({ retCode, retMsg, resTime: Date.now() }), headers);
}

/** An error as a retCode answer: the catalog's retCode (H8) and `code: message` as retMsg. */
export function codeError(ex: Exchange, code: string, err: unknown, retCode?: number): void {
  const e = toEvmeshError(err);
  codeReply(ex, code, retCode ?? ERRORS[e.code].retCode, `${e.code}: ${e.message}`);
}

/** Path-based answer (H31): no resTime, `uri` header. */
export function pathReply(ex: Exchange, retCode: number, retMsg: string): void {
  ex.send(200, JSON.stringify({ retCode, retMsg }), { 'content-type': TEXT, uri: ex.url, ...MESH_HEADERS });
}

export function pathError(ex: Exchange, err: unknown, retCode?: number): void {
  const e = toEvmeshError(err);
  pathReply(ex, retCode ?? ERRORS[e.code].retCode, `${e.code}: ${e.message}`);
}

/** H4: empty text/plain answer that closes the connection. */
export function bareStatus(ex: Exchange, status: number): void {
  ex.send(status, '', { 'content-type': TEXT }, true);
}
