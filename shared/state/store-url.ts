/**
 * STATE_STORE_URL's shape, checked once (configuration, store creation): `redis://` or `rediss://`
 * (TLS), a host, an optional port and database number, user and password. Messages never echo the
 * URL: it may hold the store's password.
 */
export function checkStoreUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError('the state store URL is not a URL');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new TypeError('the state store URL must start with redis:// or rediss://');
  }
  if (!parsed.hostname) throw new TypeError('the state store URL has no host');
  if (!/^\/?(\d{1,2})?$/.test(parsed.pathname))
    throw new TypeError('the state store URL path must be a database number');
  if (parsed.search || parsed.hash) throw new TypeError('the state store URL takes no query or fragment');
}
