import type { Payload } from '../package/types';
import type { TrustPurpose } from './trust';

/** 'imported': signature valid and metadata verified, offered to the planner. 'quarantined': kept as evidence only. */
export type PayloadStatus = 'imported' | 'quarantined';

export interface PayloadFilter {
  /** "KB4493730" or "4493730" */
  kb?: string;
  /** matched case-insensitively against every product the payload applies to */
  product?: string;
  arch?: string;
  kind?: string;
  /** the start of a file's SHA-256, lowercase hex (what `catalog list` prints) */
  sha256Prefix?: string;
}

/** One Authenticode signature as the catalog records it (primary first, nested after). */
export interface SignatureRecord {
  position: number;
  nested: boolean;
  digestAlgorithm: string | null;
  signer: string | null;
  issuer: string | null;
  timestamp: { kind: string; time: string | null; authority: string | null } | null;
  valid: boolean;
  code: string | null;
  reason: string | null;
}

export interface MemberRecord {
  name: string;
  /** "update.mum", "update.cat", "payload-cab", "wsusscan", "pkg-properties", "unattend", … */
  role: string;
  size: number | null;
}

/** Everything the catalog holds about one file, quarantined or not. */
export interface CatalogEntry {
  sha256: string;
  size: number;
  status: PayloadStatus;
  /** the name the file first arrived under (history: the media name comes from its verified metadata) */
  fileName: string;
  /** every name it arrived under (files, zip and bundle entries), first seen first */
  sourceNames: string[];
  rejectCode: string | null;
  rejectReason: string | null;
  /** imported although its only valid signatures are SHA-1 (--allow-sha1-only) */
  sha1OnlyAllowed: boolean;
  firstImportedAt: string;
  /** the payload model; null for a quarantined file whose metadata could not be read */
  payload: Payload | null;
  verdict: string | null;
  signatures: SignatureRecord[];
  members: MemberRecord[];
}

/** A payload the importer has checked, ready to be committed together with its blob. */
export interface NewCatalogEntry {
  sha256: string;
  size: number;
  status: PayloadStatus;
  fileName: string;
  rejectCode?: string;
  rejectReason?: string;
  sha1OnlyAllowed: boolean;
  payload: Payload | null;
  verdict: string | null;
  /** the full signature verdict document, kept as JSON for audits */
  verdictDocument: unknown;
  signatures: SignatureRecord[];
  members: MemberRecord[];
}

export type ImportOutcome = 'imported' | 'duplicate' | 'rejected' | 'quarantined' | 'restored';

export interface ImportEvent {
  id?: number;
  at: string;
  who: string;
  host: string;
  pid: number;
  /** the path the operator named (or the zip file) */
  source: string;
  /** the zip entry, when the payload came out of a bundle */
  entry: string | null;
  sha256: string | null;
  size: number | null;
  outcome: ImportOutcome;
  verdict: string | null;
  code: string | null;
  reason: string | null;
  cabferryVersion: string;
}

export interface TrustAnchorRecord {
  /** SHA-256 of the certificate DER, lowercase hex */
  fingerprint: string;
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  /** the file it was added from */
  source: string;
  addedAt: string;
  der: Buffer;
  /** what it vouches for (never empty), in TRUST_PURPOSES order */
  purposes: TrustPurpose[];
}
