/**
 * A picture's media type comes from its first bytes (the formats vision models take), never from what a
 * server or a file name claims; anything else is no picture. The data URL is what OpenAI-compatible APIs take.
 */
import { dataUrl, pictureMediaType, type PictureMediaType } from '../../../shared/media/media-type';

/** A tiny valid PNG (1×1). */
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4a40000000049454e44ae426082',
  'hex',
);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF\0'), Buffer.alloc(32, 7)]);
const GIF87 = Buffer.concat([Buffer.from('GIF87a', 'latin1'), Buffer.from([1, 0, 1, 0, 0x80, 0, 0]), Buffer.alloc(16)]);
const GIF89 = Buffer.concat([Buffer.from('GIF89a', 'latin1'), Buffer.from([1, 0, 1, 0, 0x80, 0, 0]), Buffer.alloc(16)]);
const WEBP = Buffer.concat([Buffer.from('RIFF', 'latin1'), Buffer.from([0x24, 0, 0, 0]), Buffer.from('WEBPVP8 ', 'latin1'), Buffer.alloc(24)]);

describe('pictureMediaType', () => {
  it.each<[string, Buffer, PictureMediaType]>([
    ['a PNG', PNG, 'image/png'],
    ['a JPEG', JPEG, 'image/jpeg'],
    ['a GIF87a', GIF87, 'image/gif'],
    ['a GIF89a', GIF89, 'image/gif'],
    ['a WebP', WEBP, 'image/webp'],
  ])('reads %s from its first bytes', (_name, bytes, expected) => {
    expect(pictureMediaType(bytes)).toBe(expected);
  });

  it('goes by the bytes alone: a PNG is a PNG whatever name or header came with it, and a .png of HTML is none', () => {
    // The function takes no name and no Content-Type: nothing but the bytes can decide.
    expect(pictureMediaType.length).toBe(1);
    expect(pictureMediaType(Buffer.from(PNG))).toBe('image/png');
    expect(pictureMediaType(Buffer.from('<!DOCTYPE html><html><body>image.png</body></html>'))).toBeUndefined();
  });

  it.each<[string, Buffer]>([
    ['an HTML error page', Buffer.from('<html><head><title>403 Forbidden</title></head></html>')],
    ['a PDF', Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')],
    ['a BMP', Buffer.concat([Buffer.from('BM', 'latin1'), Buffer.alloc(52)])],
    ['an SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"></svg>')],
    ['an empty body', Buffer.alloc(0)],
    ['a PNG signature cut after 7 bytes', PNG.subarray(0, 7)],
    ['a JPEG start cut after 2 bytes', JPEG.subarray(0, 2)],
    ['a GIF signature cut after 5 bytes', GIF89.subarray(0, 5)],
    ['a GIF of an unknown version', Buffer.concat([Buffer.from('GIF88a', 'latin1'), Buffer.alloc(16)])],
    ['a WebP header cut after 11 bytes', WEBP.subarray(0, 11)],
    ['a RIFF that is not WebP (a WAV)', Buffer.concat([Buffer.from('RIFF', 'latin1'), Buffer.alloc(4), Buffer.from('WAVEfmt ', 'latin1'), Buffer.alloc(16)])],
    ['a PNG signature one byte off', Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0b]), Buffer.alloc(16)])],
    ['a PNG signature not at the start', Buffer.concat([Buffer.from([0]), PNG])],
  ])('says %s is no picture', (_name, bytes) => {
    expect(pictureMediaType(bytes)).toBeUndefined();
  });
});

describe('dataUrl', () => {
  it('is data:<type>;base64,<the bytes in base64>, byte for byte', () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0xfe, 0x3e, 0x3f]);
    const url = dataUrl(bytes, 'image/png');
    expect(url).toBe('data:image/png;base64,iVBORwD//j4/');
    expect(Buffer.from(url.slice('data:image/png;base64,'.length), 'base64').equals(bytes)).toBe(true);
  });

  it('encodes an empty body as an empty payload', () => {
    expect(dataUrl(Buffer.alloc(0), 'image/gif')).toBe('data:image/gif;base64,');
  });
});
