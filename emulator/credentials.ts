/**
 * The access key the emulator accepts. Local mode signs with the same env vars the functions use,
 * so one setting drives both sides; with none set, a documented pair that is useless in the cloud.
 */

export interface EmulatorCredential {
  accessKeyId: string;
  accessKeySecret: string;
}

export const LOCAL_EMULATOR_CREDENTIALS: Readonly<EmulatorCredential> = Object.freeze({
  accessKeyId: 'LTAI5tLocalEmulatorKey',
  accessKeySecret: 'local-emulator-secret-do-not-use-in-cloud',
});

export function emulatorCredentialsFromEnv(env: Record<string, string | undefined> = process.env): EmulatorCredential {
  const accessKeyId = env.ALIBABA_CLOUD_ACCESS_KEY_ID || undefined;
  const accessKeySecret = env.ALIBABA_CLOUD_ACCESS_KEY_SECRET || undefined;
  if (accessKeyId && accessKeySecret) return { accessKeyId, accessKeySecret };
  // Half a pair is a misconfiguration: signing would fail with a confusing SignatureDoesNotMatch.
  if (accessKeyId || accessKeySecret) {
    throw new Error('Set both ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or neither');
  }
  return { ...LOCAL_EMULATOR_CREDENTIALS };
}
