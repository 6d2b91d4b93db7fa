import { ConfigError } from '../errors.ts';
import type { RequestLog } from '../logger.ts';

/** An Alibaba Cloud key pair, with the STS token when it is a role's temporary one. */
export interface Credentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string | undefined;
}

/** What the platform adapter knows of an invocation before anything is read. */
export interface InvocationStart {
  /** The platform's request ID (FC's). */
  readonly requestId: string;
  /** The invocation's own credentials (FC STS), else the environment's; undefined when neither. */
  readonly credentials: Credentials | undefined;
}

/**
 * One invocation of a function, as everything below the platform adapter sees it: built once per
 * request (HTTP delivery, timer tick or internal command) and passed down whole.
 */
export interface Invocation extends InvocationStart {
  /** The request's logger: every line carries the request ID and the source. */
  readonly logger: RequestLog;
  /** Epoch ms by which every call and retry must be done (the sender's patience). */
  readonly deadline: number;
}

/** The invocation's credentials, or the 500 that says how to give the function some. */
export function requireCredentials(invocation: Pick<Invocation, 'credentials'>): Credentials {
  if (invocation.credentials) return invocation.credentials;
  throw new ConfigError(
    'no credentials: give the function a role, or set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET',
  );
}
