// The one module that touches uWebSockets.js (issue 5: swappable). The npm build
// @trufflesuite/uws-js-unofficial silently falls back to a slow pure-JS server when its binary
// does not match the running Node ABI (STACK.md "uWebSockets"), so the native binary is loaded
// directly: a mismatch fails start-up instead of degrading.
import { createRequire } from 'node:module';
import type * as Uws from '@trufflesuite/uws-js-unofficial';

export type { HttpRequest, HttpResponse, TemplatedApp, WebSocket, us_listen_socket } from '@trufflesuite/uws-js-unofficial';

const require = createRequire(import.meta.url);

function loadNative(): typeof Uws {
  const pkg = require.resolve('@trufflesuite/uws-js-unofficial/package.json');
  const file = new URL(`./binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`, `file://${pkg}`).pathname;
  try {
    return require(file) as typeof Uws;
  } catch (err) {
    throw new Error(`uWebSockets native binary for Node ABI ${process.versions.modules} (${process.platform}-${process.arch}) did not load: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export const uws: typeof Uws = loadNative();

/** Closes every socket of an app (present in the binary, missing from the package's types). */
export function closeApp(app: Uws.TemplatedApp): void {
  (app as Uws.TemplatedApp & { close(): void }).close();
}
