/**
 * The picture step (issue 11): how much memory the reply needs for a picture at the size limit. A user sends
 * a picture of MAX_PICTURE_BYTES (5 MB), then asks a follow-up question that resends it; the reply bundle
 * answers both in one fresh process (an FC instance that takes the follow-up too), so its peak RSS covers
 * the download, the `data:` URL, the request body the SDK builds, the stored copy, and the stored picture
 * read back for the follow-up.
 */
import { crc32, deflateSync } from 'node:zlib';
import type { OpenAiFakeRequestLog } from '../test/fakes/openai-fake';
import { chatRequests } from './memory';
import { numbers } from './workload';

/** A chunk of a PNG: length, type, data, CRC of type and data. */
function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Bytes of a PNG besides its image data: signature, IHDR, the IDAT's and the padding chunk's frames, IEND. */
const PNG_FRAME_BYTES = 8 + 25 + 12 + 12 + 12;
/** Pixels per row of {@link sizeLimitPng}. */
const PNG_WIDTH = 1024;

/**
 * A valid PNG of exactly `bytes` bytes: RGB noise (incompressible, so the file is as large as a photo of that
 * many pixels), deflated, then a private ancillary chunk (`bnCh`, which decoders skip) that fills it up to the
 * size. Deterministic, so every run sends the same picture.
 */
export function sizeLimitPng(bytes: number): Buffer {
  const row = 1 + 3 * PNG_WIDTH;
  // Stored deflate blocks add 5 bytes per 64 KB; leave room for them and a small padding chunk.
  const height = Math.floor((bytes - PNG_FRAME_BYTES - 4096) / (row * (1 + 8 / 65535)));
  if (height < 1) throw new Error(`a PNG of ${bytes} bytes is too small for the bench`);
  const next = numbers(11);
  const raw = Buffer.alloc(row * height);
  for (let offset = 0; offset + 4 <= raw.length; offset += 4) raw.writeUInt32LE(Math.floor(next() * 2 ** 32), offset);
  // Filter type 0 (none) at the start of each row.
  for (let y = 0; y < height; y += 1) raw[y * row] = 0;
  const header = Buffer.alloc(13);
  header.writeUInt32BE(PNG_WIDTH, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits per channel, RGB, deflate, adaptive filters, no interlace
  const idat = deflateSync(raw, { level: 0 });
  const padding = bytes - PNG_FRAME_BYTES - idat.length;
  if (padding < 0) throw new Error(`the PNG's image data outgrew ${bytes} bytes`);
  const png = Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', header), pngChunk('IDAT', idat), pngChunk('bnCh', Buffer.alloc(padding)), pngChunk('IEND', Buffer.alloc(0))]);
  if (png.length !== bytes) throw new Error(`built a PNG of ${png.length} bytes instead of ${bytes}`);
  return png;
}

/** The pictures (`data:` URLs decoded) of each user message of a logged chat request, in order. */
export function requestPictures(request: OpenAiFakeRequestLog): Array<{ role: string; pictures: Array<{ mediaType: string; bytes: Buffer }> }> {
  const { messages } = request.body as { messages: Array<{ role: string; content: unknown }> };
  return messages.map((message) => {
    const parts = Array.isArray(message.content) ? (message.content as Array<{ type?: string; image_url?: { url?: string } }>) : [];
    const pictures = parts
      .filter((part) => part.type === 'image_url')
      .map((part) => {
        const data = /^data:([^;,]+);base64,(.*)$/s.exec(part.image_url?.url ?? '');
        if (!data) throw new Error('a picture was not sent as a base64 data: URL');
        return { mediaType: data[1] as string, bytes: Buffer.from(data[2] as string, 'base64') };
      });
    return { role: message.role, pictures };
  });
}

/**
 * Throws unless the chat requests among `requests` are exactly two, both to `model`: the picture's question
 * carrying `picture` (PNG) in its last message, and the follow-up carrying it again with the earlier question.
 * A picture that did not reach the model must not yield a small figure.
 */
export function expectPictureSentTwice(requests: readonly OpenAiFakeRequestLog[], picture: Buffer, model: string): void {
  const chats = chatRequests(requests);
  if (chats.length !== 2) throw new Error(`reply (picture): expected 2 chat requests, got ${chats.length}`);
  chats.forEach((request, i) => {
    const what = i === 0 ? 'the picture message' : 'the follow-up';
    const sentModel = (request.body as { model?: unknown }).model;
    if (sentModel !== model) throw new Error(`reply (picture): ${what} asked ${String(sentModel)}, not VISION_MODEL ${model}`);
    const sent = requestPictures(request).flatMap((message) => message.pictures);
    if (sent.length !== 1 || sent[0]?.mediaType !== 'image/png' || !sent[0].bytes.equals(picture)) {
      throw new Error(`reply (picture): ${what} did not carry the ${picture.length}-byte PNG exactly once`);
    }
  });
}
