import { PayloadTooLargeError } from '../errors.ts';

/**
 * Reads a request body, refusing it as soon as it exceeds `limit` bytes: a declared
 * Content-Length over the limit is refused before a byte is read.
 */
export async function readBodyLimited(request: Request, limit: number, given?: Uint8Array): Promise<Uint8Array> {
  if (given) {
    if (given.byteLength > limit) throw new PayloadTooLargeError(limit);
    return given;
  }
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > limit) throw new PayloadTooLargeError(limit);
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new PayloadTooLargeError(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
