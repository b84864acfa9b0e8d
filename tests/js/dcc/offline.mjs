// The offline document loader the harness gives verifier-core.
//
// It is the DCC's own securityLoader (its bundled contexts: VC 1/2, DID v1, Data Integrity,
// Bitstring Status List, Open Badges 3.0, …) with remote fetching replaced by:
//   - documents from files (`--document URL=FILE`), plus the Multikey v1 context from the
//     pinned @digitalbazaar/multikey-context package (the DCC loader does not bundle it and
//     would fetch it from w3id.org);
//   - any URL under the test's live server (`--server ORIGIN`), fetched from it;
//   - everything else refused and recorded: the run never touches the internet.
// globalThis.fetch (used by verifier-core's schema check and the registry client) obeys the
// same rules.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  securityLoader as dccSecurityLoader,
  httpClientHandler
} from '@digitalcredentials/security-document-loader';

const require = createRequire(import.meta.url);
const MULTIKEY_V1 = 'https://w3id.org/security/multikey/v1';

const files = new Map([
  [MULTIKEY_V1, require.resolve('@digitalbazaar/multikey-context/contexts/multikey-v1.jsonld')]
]);
let origin = null;
const realFetch = globalThis.fetch;
export const log = { served: [], refused: [] };

export function configure({ server, documents }) {
  origin = server ? new URL(server).origin : null;
  for (const [url, path] of documents) files.set(url, path);
}

function underServer(url) {
  try {
    return origin !== null && new URL(url).origin === origin;
  } catch {
    return false;
  }
}

async function load(url) {
  if (files.has(url)) {
    log.served.push({ url, from: 'file' });
    return JSON.parse(readFileSync(files.get(url), 'utf8'));
  }
  if (underServer(url)) {
    const response = await realFetch(url, { headers: { Accept: 'application/ld+json' } });
    log.served.push({ url, from: 'server', status: response.status });
    if (!response.ok) {
      throw new Error(`NotFoundError loading "${url}": HTTP ${response.status}`);
    }
    return response.json();
  }
  log.refused.push(url);
  throw new Error(`NotFoundError loading "${url}": offline harness, not served`);
}

const offlineHandler = { get: ({ url }) => load(url) };

globalThis.fetch = async (input, init) => {
  const url = typeof input === 'string' ? input : input.url ?? String(input);
  if (underServer(url)) return realFetch(input, init);
  if (files.has(url)) {
    log.served.push({ url, from: 'file' });
    return new Response(readFileSync(files.get(url)), {
      headers: { 'Content-Type': 'application/json' }
    });
  }
  log.refused.push(url);
  throw new TypeError(`offline harness: ${url} is not served`);
};

export function securityLoader(options = {}) {
  const loader = dccSecurityLoader({ ...options, fetchRemoteContexts: false });
  loader.setProtocolHandler({ protocol: 'http', handler: offlineHandler });
  loader.setProtocolHandler({ protocol: 'https', handler: offlineHandler });
  return loader;
}

export { httpClientHandler };
