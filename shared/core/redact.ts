/**
 * A platform's text (an API's error message) as a caller may read it: URLs, host names, IP
 * addresses, resource names (ARNs) and account IDs replaced, so no response carries an internal
 * endpoint or the account; the log keeps the original. `known` are values to remove wherever they
 * appear (the configured endpoint host, the account ID). Input is cut to `max` characters first,
 * and every pattern is linear: no nested quantifier can backtrack.
 */
export function redactInternals(text: string, known: readonly (string | undefined)[] = [], max = 500): string {
  let out = text.length > max ? `${text.slice(0, max)}…` : text;
  for (const value of known) {
    if (value && value.length >= 4) out = out.split(value).join('<internal>');
  }
  return (
    out
      // Any URL (scheme://…) and any resource name (acs:service:region:account:resource).
      .replace(/\b[a-z][a-z0-9+.-]{0,20}:\/\/[^\s"'<>]*/gi, '<url>')
      .replace(/\bacs:[^\s"'<>]*/gi, '<arn>')
      // IPv4 addresses (with a port), and host names under the top-level domains a cloud endpoint uses.
      .replace(/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b/g, '<address>')
      .replace(
        /\b[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63})*\.(?:com|cn|net|run|org|io|internal|local)\b(?::\d{1,5})?/gi,
        '<host>',
      )
      // An Alibaba Cloud account ID: 16 digits standing alone (a sentence may end after it).
      .replace(/(?<![\w.-])\d{16}(?![\w-]|\.\w)/g, '<account>')
  );
}
