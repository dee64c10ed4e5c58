// The Content-Security-Policy of the studio's page, one definition for both hosts: the
// Electron window sets it on every response (main/electron/security.ts), the web host
// sends it with every file (web-host.ts). Only the page's own files may run, style or
// load: no inline scripts or styles, no eval (React and recharts set styles through the
// CSSOM, which the policy allows; zod's eval-based JIT is off, app/studio/contract.ts).
// Workers too come only from the page's own files (the graph's layout worker).
export function contentSecurityPolicy(options: { connectSources?: string[] } = {}): string {
  const connect = ["'self'", ...(options.connectSources ?? [])].join(' ');
  return [
    "default-src 'self'",
    "script-src 'self'",
    "worker-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${connect}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'"
  ].join('; ');
}
