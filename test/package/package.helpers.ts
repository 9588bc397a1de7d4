import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadTrustAnchors, type TrustAnchor } from '../../src/authenticode';
import { openCab } from '../../src/cab/cabinet';
import type { CabMember } from '../../src/cab/types';
import { buildCab, noneFolderEncoder, type CabWriterFile } from '../../scripts/lib/cab-writer';
import { corpusPath } from '../common.helpers';

/** Shared by test/package/*: the real corpus payloads, the Microsoft roots, and re-packing a cab. */

export const kb2999226Inner = (name: string): string => corpusPath('ms-signed', 'kb2999226-inner', name, `${name}.cab`);
export const corpusMsu = (name: string): string => corpusPath('msu', name);

let microsoft: TrustAnchor[] | undefined;
export function microsoftTrust(): TrustAnchor[] {
  return (microsoft ??= loadTrustAnchors([corpusPath('trust-anchors', 'microsoft-roots-bundle.pem')]));
}

let unrelated: TrustAnchor[] | undefined;
/** A real root that never signed a Windows catalog. */
export function unrelatedTrust(): TrustAnchor[] {
  return (unrelated ??= loadTrustAnchors([corpusPath('trust-anchors', 'jsign', 'jsign-root-ca.pem')]));
}

/** Every member of a cabinet with its bytes (one pass per folder), in stored order. */
export function readAllMembers(file: string): CabWriterFile[] {
  const cab = openCab(file);
  try {
    const pieces = new Map<CabMember, Buffer[]>();
    const out = new Map<CabMember, Buffer>();
    cab.forEachMemberData(cab.members, {
      onData: (m, chunk) => pieces.set(m, [...(pieces.get(m) ?? []), Buffer.from(chunk)]),
      done: (m, error) => {
        if (error) throw error;
        out.set(m, Buffer.concat(pieces.get(m) ?? [], m.size));
      },
    });
    return cab.members.map((m) => ({ name: m.name, data: out.get(m) as Buffer }));
  } finally {
    cab.close();
  }
}

/** Write `files` as a new, unsigned, uncompressed cabinet at dir/name and return its path. */
export function writeCab(dir: string, name: string, files: CabWriterFile[]): string {
  const target = path.join(dir, name);
  fs.writeFileSync(target, buildCab([{ encoder: noneFolderEncoder(), files }]));
  return target;
}

/** The same members with one member's bytes replaced (or the member removed when `data` is null). */
export function withMember(files: CabWriterFile[], name: string, data: Buffer | null): CabWriterFile[] {
  const found = files.some((f) => f.name.toLowerCase() === name.toLowerCase());
  if (!found) throw new Error(`no member ${name}`);
  return files.flatMap((f) => (f.name.toLowerCase() !== name.toLowerCase() ? [f] : data === null ? [] : [{ ...f, data }]));
}

/** A copy of `data` with the byte at `offset` changed. */
export function flipByte(data: Buffer, offset: number): Buffer {
  const copy = Buffer.from(data);
  copy[offset] ^= 0x01;
  return copy;
}
