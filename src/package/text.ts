import { inputError } from '../errors';

/**
 * Decoding of the small text members of a payload (pkgProperties.txt, unattend .xml, .mum,
 * _manifest_.cix.xml). Microsoft writes these in more than one encoding — real MSUs carry an
 * ASCII pkgProperties.txt with CRLF, other tools and older packages UTF-16LE with a BOM — so the
 * encoding is decided from the bytes, never assumed.
 */

export type TextEncodingName = 'utf-8' | 'utf-8-bom' | 'utf-16le' | 'utf-16le-bom' | 'latin1';

export interface DecodedText {
  text: string;
  encoding: TextEncodingName;
}

export interface DecodeOptions {
  /** what the bytes are, for error messages ("update.mum") */
  what: string;
  /** bytes that are not valid UTF-8 are read as latin-1 (Windows "ANSI") instead of rejected */
  allowLatin1?: boolean;
}

/**
 * BOM first (EF BB BF → UTF-8, FF FE → UTF-16LE, FE FF → refused: nothing in a payload is
 * big-endian); then NULs in the odd byte positions → UTF-16LE without BOM; then strict UTF-8,
 * falling back to latin-1 only where the caller allows it.
 */
export function decodeMetadataText(bytes: Buffer, options: DecodeOptions): DecodedText {
  const { what } = options;
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { text: strictUtf8(bytes.subarray(3), what), encoding: 'utf-8-bom' };
  }
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) {
    return { text: utf16le(bytes.subarray(2), what), encoding: 'utf-16le-bom' };
  }
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) {
    throw inputError('TEXT_UNSUPPORTED_ENCODING', `${what} is UTF-16 big-endian, which Windows servicing never writes`);
  }
  if (looksLikeUtf16le(bytes)) return { text: utf16le(bytes, what), encoding: 'utf-16le' };
  if (bytes.includes(0)) {
    throw inputError('TEXT_BAD_ENCODING', `${what} contains NUL bytes but is not UTF-16LE text`);
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), encoding: 'utf-8' };
  } catch {
    if (options.allowLatin1) return { text: bytes.toString('latin1'), encoding: 'latin1' };
    throw inputError('TEXT_BAD_ENCODING', `${what} is not valid UTF-8 and has no byte-order mark`);
  }
}

/** ASCII-range text stored as UTF-16LE has a NUL in (nearly) every odd position and none in even ones. */
function looksLikeUtf16le(bytes: Buffer): boolean {
  if (bytes.length < 2) return false;
  const sample = Math.min(bytes.length & ~1, 512);
  let oddNuls = 0;
  let evenNuls = 0;
  for (let i = 0; i < sample; i += 2) {
    if (bytes[i] === 0) evenNuls++;
    if (bytes[i + 1] === 0) oddNuls++;
  }
  const pairs = sample / 2;
  return oddNuls >= pairs * 0.75 && evenNuls <= pairs * 0.1;
}

function strictUtf8(bytes: Buffer, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw inputError('TEXT_BAD_ENCODING', `${what} declares UTF-8 (byte-order mark) but is not valid UTF-8`);
  }
}

function utf16le(bytes: Buffer, what: string): string {
  if (bytes.length % 2 !== 0) {
    throw inputError('TEXT_BAD_ENCODING', `${what} is UTF-16LE with an odd number of bytes (${bytes.length})`);
  }
  try {
    return new TextDecoder('utf-16le', { fatal: true }).decode(bytes);
  } catch {
    throw inputError('TEXT_BAD_ENCODING', `${what} is not valid UTF-16LE (unpaired surrogate)`);
  }
}
