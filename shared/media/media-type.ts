/** Picture formats the vision models of OpenAI, Qwen, GLM and Gemini accept. */
export type PictureMediaType = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp';

/**
 * The media type of a picture from its first bytes: the bytes decide, not the name or the server's
 * Content-Type (DingTalk's links serve pictures as `application/octet-stream` at times). Undefined for
 * anything that is not one of the formats the models take.
 */
export function pictureMediaType(bytes: Buffer): PictureMediaType | undefined {
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.length >= 6 && (bytes.subarray(0, 6).toString('latin1') === 'GIF87a' || bytes.subarray(0, 6).toString('latin1') === 'GIF89a')) return 'image/gif';
  if (bytes.length >= 12 && bytes.subarray(0, 4).toString('latin1') === 'RIFF' && bytes.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  return undefined;
}

/** A `data:` URL of the bytes, as OpenAI-compatible APIs take pictures inline. */
export function dataUrl(bytes: Buffer, mediaType: string): string {
  return `data:${mediaType};base64,${bytes.toString('base64')}`;
}
