// Module resolution hook: verifier-core builds its document loader at import time from
// @digitalcredentials/security-document-loader (with remote fetching on). Give verifier-core,
// and only it, our offline loader instead (offline.mjs imports the real package itself).
const OFFLINE = new URL('./offline.mjs', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  if (
    specifier === '@digitalcredentials/security-document-loader' &&
    context.parentURL?.includes('/@digitalcredentials/verifier-core/')
  ) {
    return { url: OFFLINE, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}
