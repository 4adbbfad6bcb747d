// Webhook URL check at subscribe time (issue 5 item 4; upstream H13 checks the host against a
// blacklist only for names, H70 h). evmesh accepts absolute http/https URLs with a host, no
// credentials (they would be logged and listed by the admin API) and no fragment.
import { EvmeshError } from '../../errors.js';

export function validateWebhookUrl(raw: unknown): URL {
  if (typeof raw !== 'string' || raw === '') throw new EvmeshError('EVM_BAD_REQUEST', 'the webhook url is required');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new EvmeshError('EVM_BAD_REQUEST', `invalid URL: ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new EvmeshError('EVM_BAD_REQUEST', `invalid URL: ${raw} (only http and https webhooks)`);
  if (url.hostname === '') throw new EvmeshError('EVM_BAD_REQUEST', `invalid URL: ${raw} (no host)`);
  if (url.username !== '' || url.password !== '') throw new EvmeshError('EVM_BAD_REQUEST', `invalid URL: ${raw} (credentials in the URL are not accepted)`);
  if (url.hash !== '') throw new EvmeshError('EVM_BAD_REQUEST', `invalid URL: ${raw} (a fragment is not sent over HTTP)`);
  return url;
}
