/**
 * The parts of `@alicloud/fc2` (2.6.x, no types of its own) this project uses, checked against
 * node_modules/@alicloud/fc2/lib/client.js. The module is CommonJS: `module.exports = Client`.
 */
declare module '@alicloud/fc2' {
  interface FcClientConfig {
    /** Note the spelling: `accessKeyID`. */
    accessKeyID: string;
    accessKeySecret: string;
    /** Read only when `accessKeyID` starts with `STS` (then required). */
    securityToken?: string;
    region: string;
    /** `https` for the default endpoint; ignored when `endpoint` is given. */
    secure?: boolean;
    /** `<account>.<region>-internal.fc.aliyuncs.com` for the default endpoint. */
    internal?: boolean;
    /** Full origin with protocol, e.g. `http://127.0.0.1:9000`; the Host header becomes its hostname. */
    endpoint?: string;
    /** Connect and read timeout of one request, in ms (default 60000). */
    timeout?: number;
    /** Extra headers sent (and, for `x-fc-*`, signed) with every request. */
    headers?: Record<string, string>;
  }

  interface FcResponse<T> {
    headers: Record<string, string | string[] | undefined>;
    data: T;
  }

  /**
   * Errors from a non-2xx answer: `name` `FC<ErrorCode>Error`, `code` the body's `ErrorCode`,
   * message `POST <path> failed with <status>. requestid: <id>, message: <ErrorMessage>.`
   * Network errors come from httpx/node unchanged (`code` like `ECONNREFUSED`,
   * name `RequestTimeoutError` on a timeout).
   */
  class FC {
    constructor(accountId: string, config: FcClientConfig);
    /**
     * `POST /2016-08-15/services/{service[.qualifier]}/functions/{function}/invocations`.
     * `event` must be a string or Buffer (sent as application/octet-stream with Content-MD5).
     */
    invokeFunction(
      serviceName: string,
      functionName: string,
      event: string | Buffer,
      headers?: Record<string, string>,
      qualifier?: string,
      opts?: { rawBuf?: boolean },
    ): Promise<FcResponse<unknown>>;
    /** `FC <accessKeyID>:<base64 HMAC-SHA256 of the string to sign>`. */
    static getSignature(
      accessKeyID: string,
      accessKeySecret: string,
      method: string,
      path: string,
      headers: Record<string, unknown>,
      queries?: Record<string, string | string[]> | null,
    ): string;
  }

  export = FC;
}
