import { VerificationError } from './errors';

/**
 * An offset-preserving DER walker. Authenticode signs and hashes exact byte slices (the
 * authenticated attributes as stored, the SpcIndirectDataContent value, each certificate), so
 * the parser never re-encodes: every node keeps where it sits in the original buffer.
 *
 * Only definite-length DER with single-byte tags is accepted; every length is checked against
 * its parent before anything is sliced, so a hostile blob produces SIG_MALFORMED, not a bad read.
 */

export const Tag = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  bmpString: 0x1e,
  sequence: 0x30,
  set: 0x31,
  /** [n] constructed context-specific: 0xA0 + n */
  context: (n: number): number => 0xa0 + n,
  /** [n] primitive context-specific: 0x80 + n */
  contextPrimitive: (n: number): number => 0x80 + n,
} as const;

/** One TLV: `start..end` is the whole element, `valueStart..end` its contents, all in `buf`. */
export interface Der {
  readonly buf: Buffer;
  readonly tag: number;
  readonly start: number;
  readonly valueStart: number;
  readonly end: number;
}

/** Nesting deeper than this is not something a signature needs and only feeds recursion. */
const MAX_DEPTH = 64;

function malformed(message: string, offset?: number): VerificationError {
  return new VerificationError('SIG_MALFORMED', offset === undefined ? message : `${message} (at signature offset ${offset})`);
}

/** Read the TLV at `offset`, which must end at or before `limit`. */
export function readDer(buf: Buffer, offset = 0, limit = buf.length): Der {
  if (offset + 2 > limit) throw malformed('truncated DER header', offset);
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw malformed(`multi-byte DER tag 0x${tag.toString(16)} not supported`, offset);
  let pos = offset + 1;
  const first = buf[pos++];
  let length: number;
  if (first < 0x80) {
    length = first;
  } else if (first === 0x80) {
    throw malformed('indefinite-length encoding is not DER', offset);
  } else {
    const n = first & 0x7f;
    if (n > 4) throw malformed(`DER length of ${n} bytes is too large`, offset);
    if (pos + n > limit) throw malformed('truncated DER length', offset);
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[pos++];
  }
  const end = pos + length;
  if (end > limit) throw malformed(`DER element of ${length} bytes runs past its container`, offset);
  return { buf, tag, start: offset, valueStart: pos, end };
}

/** The element's contents (without tag and length). */
export function value(d: Der): Buffer {
  return d.buf.subarray(d.valueStart, d.end);
}

/** The whole element, tag and length included, exactly as stored. */
export function raw(d: Der): Buffer {
  return d.buf.subarray(d.start, d.end);
}

export function isConstructed(d: Der): boolean {
  return (d.tag & 0x20) !== 0;
}

/** The children of a constructed element; they must exactly fill it. */
export function children(d: Der, depth = 0): Der[] {
  if (!isConstructed(d)) throw malformed(`element with tag 0x${d.tag.toString(16)} is not constructed`, d.start);
  if (depth > MAX_DEPTH) throw malformed('DER nesting too deep', d.start);
  const out: Der[] = [];
  let pos = d.valueStart;
  while (pos < d.end) {
    const child = readDer(d.buf, pos, d.end);
    out.push(child);
    pos = child.end;
  }
  return out;
}

export function expectTag(d: Der | undefined, tag: number, what: string): Der {
  if (d === undefined) throw malformed(`${what} is missing`);
  if (d.tag !== tag) throw malformed(`${what}: expected tag 0x${tag.toString(16)}, found 0x${d.tag.toString(16)}`, d.start);
  return d;
}

/** Children of a constructed element of the expected tag, with at least `min` of them. */
export function expectChildren(d: Der | undefined, tag: number, what: string, min = 0): Der[] {
  const kids = children(expectTag(d, tag, what));
  if (kids.length < min) throw malformed(`${what} has ${kids.length} elements, expected at least ${min}`, d?.start);
  return kids;
}

/** An OBJECT IDENTIFIER in dotted form; base-128 arcs, minimally encoded, at most 2^53. */
export function readOid(d: Der | undefined, what: string): string {
  const bytes = value(expectTag(d, Tag.oid, what));
  if (bytes.length === 0 || (bytes[bytes.length - 1] & 0x80) !== 0) throw malformed(`${what}: truncated OID`, d?.start);
  const arcs: number[] = [];
  let arc = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (arc === 0 && b === 0x80) throw malformed(`${what}: OID arc is not minimally encoded`, d?.start);
    arc = arc * 128 + (b & 0x7f);
    if (arc > Number.MAX_SAFE_INTEGER) throw malformed(`${what}: OID arc too large`, d?.start);
    if ((b & 0x80) === 0) {
      if (arcs.length === 0) arcs.push(arc < 80 ? Math.floor(arc / 40) : 2, arc < 80 ? arc % 40 : arc - 80);
      else arcs.push(arc);
      arc = 0;
    }
  }
  return arcs.join('.');
}

export function readOctets(d: Der | undefined, what: string): Buffer {
  return value(expectTag(d, Tag.octetString, what));
}

/** A non-negative INTEGER small enough for a JS number (versions, pathLen). */
export function readSmallInt(d: Der | undefined, what: string): number {
  const v = value(expectTag(d, Tag.integer, what));
  if (v.length === 0 || v.length > 6 || (v[0] & 0x80) !== 0) throw malformed(`${what}: unsupported INTEGER`, d?.start);
  return v.readUIntBE(0, v.length);
}

/** UTCTime (RFC 5280 two-digit years) or GeneralizedTime, optionally with fractional seconds. */
export function readTime(d: Der | undefined, what: string): Date {
  if (d === undefined || (d.tag !== Tag.utcTime && d.tag !== Tag.generalizedTime)) throw malformed(`${what}: expected a time`, d?.start);
  const s = value(d).toString('latin1');
  const m = d.tag === Tag.utcTime
    ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/.exec(s)
    : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:[.,](\d+))?Z$/.exec(s);
  if (!m) throw malformed(`${what}: unsupported time "${s}"`, d.start);
  let year = Number(m[1]);
  if (d.tag === Tag.utcTime) year += year < 50 ? 2000 : 1900;
  const ms = d.tag === Tag.generalizedTime && m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
  const t = Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0), ms);
  if (Number.isNaN(t)) throw malformed(`${what}: invalid time "${s}"`, d.start);
  return new Date(t);
}

/** Text of a directory/Spc string (UTF8String, PrintableString, IA5String, BMPString, T61String). */
export function readString(d: Der): string {
  const v = value(d);
  if (d.tag === Tag.bmpString) {
    const swapped = Buffer.from(v.subarray(0, v.length & ~1));
    swapped.swap16();
    return swapped.toString('utf16le');
  }
  return d.tag === Tag.utf8String ? v.toString('utf8') : v.toString('latin1');
}
