// Verify one credential with the Digital Credentials Consortium's verifier-core, offline.
//
//   node verify.mjs [--server http://127.0.0.1:PORT] [--document URL=FILE]... < credential.json
//
// Prints {"result": <verifyCredential's answer>, "served": [...], "refused": [...]} as JSON.
// No trusted-issuer registries are given, so the registered_issuer step is always false
// ("issuer not in a known registry"): expected, not a failure.
import { register } from 'node:module';
import { readFileSync } from 'node:fs';
import { configure, log } from './offline.mjs';

const args = process.argv.slice(2);
let server = null;
const documents = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--server') server = args[++i];
  else if (args[i] === '--document') {
    const value = args[++i];
    const cut = value.lastIndexOf('=');
    documents.push([value.slice(0, cut), value.slice(cut + 1)]);
  } else {
    console.error(`unknown argument ${args[i]}`);
    process.exit(2);
  }
}
configure({ server, documents });
register('./hooks.mjs', import.meta.url);
// Imported only now, so it builds its document loader through the hook.
const { verifyCredential } = await import('@digitalcredentials/verifier-core');

const credential = JSON.parse(readFileSync(0, 'utf8'));
const result = await verifyCredential({ credential, knownDIDRegistries: [] });

// Errors (stack traces, causes) as plain data; the submitted credential is left out.
function plain(_key, value) {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, ...(value.cause && { cause: value.cause }) };
  }
  return value;
}
delete result.credential;
for (const error of result.errors ?? []) delete error.stackTrace;
process.stdout.write(
  JSON.stringify({ result, served: log.served, refused: log.refused }, plain, 2) + '\n'
);
