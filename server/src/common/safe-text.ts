/**
 * The one scrubber for text that leaves the node for the Kubernetes API (pod Events, status
 * objects) or came from another party (cert-manager's denial messages): PEM blocks (keys, CSRs,
 * certificates) and JWT-shaped strings (service-account tokens) are cut out, control characters
 * become spaces, and the result is capped at `max` characters (the last one then `…`). Logs have
 * their own choke point in logger.ts.
 */
const PEM_BLOCK = /-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(-----END [A-Z0-9 ]+-----|$)/g;
const JWT = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
// eslint-disable-next-line no-control-regex -- strips control characters from text another party wrote
const CONTROL = /[\x00-\x1f\x7f]+/g;

export function safeText(text: string, max = 1024): string {
  const clean = text
    .replace(PEM_BLOCK, '[PEM removed]')
    .replace(JWT, '[token removed]')
    .replace(CONTROL, ' ');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}
