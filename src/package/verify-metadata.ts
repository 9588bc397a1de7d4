import { CabferryError, inputError, isCabferryError } from '../errors';
import { Oid, verifySignedData, type TrustAnchor } from '../authenticode';
import type { Cabinet } from '../cab/cabinet';
import type { CabMember } from '../cab/types';
import { memberKey } from '../cab/member-name';
import { parseContainerIndex, type ContainerIndex } from './cix';
import { catalogIndex, entriesForDigests, flatDigester, parseCatalogContent, type CatalogContent, type FlatDigests } from './ctl';

/**
 * "Metadata verified": the servicing metadata of a payload cab is what Microsoft (or whoever the
 * operator trusts) signed. The chain is
 *   catalog signature (update.cat and every other .cat, via src/authenticode) →
 *   catalog entry (hash of the member) → the .mum / .manifest bytes in the cab,
 * so a changed update.mum — a different parent, KB or restart flag — is caught even when the
 * cab itself is re-signed by someone else. `_manifest_.cix.xml` (unsigned) is checked for
 * consistency with the members. Each step throws one MetadataError with a code; the verifier
 * collects them.
 */

/** Leaf EKUs a catalog signer may carry: Windows System Component Verification, or code signing. */
export const catalogSignerEkus = [Oid.windowsSystemComponent, Oid.codeSigning];

export class MetadataError extends CabferryError {
  constructor(code: string, message: string, member?: string) {
    super('negative', code, message, { member });
    this.name = 'MetadataError';
  }
}

export interface CatalogCheck {
  member: string;
  valid: boolean;
  /** digest algorithms of the catalog's valid signatures */
  digestAlgorithms: string[];
  signer: string | null;
  entries: number;
  reason: string | null;
}

export interface MetadataProblem {
  code: string;
  message: string;
  member?: string;
}

export interface MetadataVerification {
  verified: boolean;
  /** the first problem, as one line; null when verified */
  reason: string | null;
  problems: MetadataProblem[];
  catalogs: CatalogCheck[];
  /** .mum/.manifest members whose bytes a verified catalog vouches for */
  membersVerified: number;
  containerIndex: { files: number; sourcesChecked: number; hashesChecked: number } | null;
}

export interface MetadataVerifyOptions {
  trust: TrustAnchor[];
  at?: Date;
}

/**
 * The metadata members of a payload cab: the documents that are parsed (.mum, .cat,
 * _manifest_.cix.xml) in memory, and for every metadata member (component manifests included,
 * which can number thousands in a rollup) only its flat digests, computed while it streams past.
 */
export interface MetadataMembers {
  documents: Map<string, Buffer>;
  digests: Map<string, FlatDigests>;
}

/** Members the metadata check reads: by the name Windows writes them as ("update.mum." is update.mum). */
export function isMetadataMember(name: string): boolean {
  const key = memberKey(name);
  return /\.(mum|cat|manifest)$/.test(key) || key === '_manifest_.cix.xml';
}

/** Metadata members that are parsed, so held in memory. */
function isDocument(name: string): boolean {
  const key = memberKey(name);
  return /\.(mum|cat)$/.test(key) || key === '_manifest_.cix.xml';
}

export const maxDocumentBytes = 32 * 1024 * 1024;
const maxDocumentTotalBytes = 256 * 1024 * 1024;

/**
 * Read every metadata member of a payload cab in one pass per folder (decoding each folder once,
 * stopping after the last member needed). Keys are memberKey names (../cab/member-name).
 */
export function readMetadataMembers(cabinet: Cabinet): MetadataMembers {
  const wanted = cabinet.members.filter((m) => isMetadataMember(m.name));
  let total = 0;
  const seen = new Set<string>();
  for (const m of wanted) {
    // two members Windows writes as update.mum (whatever their case or trailing dots and spaces):
    // which one would pkgmgr read? Refuse rather than guess.
    if (seen.has(memberKey(m.name))) {
      throw inputError('PKG_DUPLICATE_MEMBER', 'the cab holds this metadata member more than once', { file: cabinet.path, member: m.name });
    }
    seen.add(memberKey(m.name));
    if (!isDocument(m.name)) continue;
    if (m.size > maxDocumentBytes) {
      throw inputError('PKG_METADATA_TOO_LARGE', `metadata member is ${m.size} bytes (limit ${maxDocumentBytes})`, { file: cabinet.path, member: m.name });
    }
    total += m.size;
  }
  if (total > maxDocumentTotalBytes) {
    throw inputError('PKG_METADATA_TOO_LARGE', `metadata documents total ${total} bytes (limit ${maxDocumentTotalBytes})`, { file: cabinet.path });
  }
  const chunks = new Map<CabMember, Buffer[]>();
  const hashing = new Map<CabMember, ReturnType<typeof flatDigester>>();
  const out: MetadataMembers = { documents: new Map(), digests: new Map() };
  let failure: CabferryError | null = null;
  cabinet.forEachMemberData(wanted, {
    onData: (m, chunk) => {
      let digester = hashing.get(m);
      if (digester === undefined) hashing.set(m, (digester = flatDigester()));
      digester.update(chunk);
      if (!isDocument(m.name)) return;
      const list = chunks.get(m) ?? [];
      list.push(Buffer.from(chunk)); // chunks are only valid during the call
      chunks.set(m, list);
    },
    done: (m, error) => {
      if (error !== null) failure ??= error;
      else {
        out.digests.set(memberKey(m.name), (hashing.get(m) ?? flatDigester()).digests());
        if (isDocument(m.name)) out.documents.set(memberKey(m.name), Buffer.concat(chunks.get(m) ?? [], m.size));
      }
      chunks.delete(m);
      hashing.delete(m);
    },
  });
  if (failure !== null) throw failure;
  return out;
}

/** Verify the metadata of a payload cab whose metadata members have been read. */
export function verifyPackageMetadata(metadata: MetadataMembers, members: readonly CabMember[], options: MetadataVerifyOptions): MetadataVerification {
  const problems: MetadataProblem[] = [];
  const record = (e: unknown): void => {
    if (e instanceof MetadataError) problems.push({ code: e.code, message: e.message, ...(e.member ? { member: e.member } : {}) });
    else throw e;
  };

  // 1. every catalog's signature, and its content
  const catalogs: CatalogCheck[] = [];
  const verifiedCatalogs = new Map<string, CatalogContent>();
  for (const [key, der] of metadata.documents) {
    if (!key.endsWith('.cat')) continue;
    try {
      const { check, content } = verifyCatalog(key, der, options);
      catalogs.push(check);
      verifiedCatalogs.set(key, content);
    } catch (e) {
      record(e);
      catalogs.push({ member: key, valid: false, digestAlgorithms: [], signer: null, entries: 0, reason: e instanceof Error ? e.message : String(e) });
    }
  }

  // 2. the top-level pair
  try {
    checkTopLevelPair(metadata.documents);
  } catch (e) {
    record(e);
  }

  // 3. each X.mum by its own X.cat when there is one (update.mum by update.cat), every other .mum/.manifest by some verified catalog
  const index = catalogIndex([...verifiedCatalogs.values()]);
  let membersVerified = 0;
  for (const [key, digests] of metadata.digests) {
    if (!/\.(mum|manifest)$/.test(key)) continue;
    try {
      checkVouchedFor(key, digests, index, verifiedCatalogs);
      membersVerified++;
    } catch (e) {
      record(e);
    }
  }

  // 4. entries that name their member ("File" attribute) must match that member when present
  for (const [catalogKey, content] of verifiedCatalogs) {
    for (const entry of content.entries) {
      if (entry.fileName === null) continue;
      const key = memberKey(entry.fileName);
      const digests = metadata.digests.get(key);
      // absent members are the container's business; members already reported need no second line
      if (digests === undefined || problems.some((p) => p.member === key)) continue;
      try {
        checkNamedEntry(catalogKey, entry.fileName, digests, entry.digests);
      } catch (e) {
        record(e);
      }
    }
  }

  // 5. the container index against the members
  let containerIndex: MetadataVerification['containerIndex'] = null;
  const cix = metadata.documents.get('_manifest_.cix.xml');
  if (cix !== undefined) {
    try {
      containerIndex = checkContainerIndex(parseContainerIndex(cix), members, metadata.digests);
    } catch (e) {
      if (isCabferryError(e) && e.kind === 'input') record(new MetadataError('META_CIX_MALFORMED', e.message, '_manifest_.cix.xml'));
      else record(e);
    }
  }

  const first = problems[0];
  return {
    verified: problems.length === 0,
    reason: first ? `${first.message}${problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : ''}` : null,
    problems,
    catalogs,
    membersVerified,
    containerIndex,
  };
}

function verifyCatalog(member: string, der: Buffer, options: MetadataVerifyOptions): { check: CatalogCheck; content: CatalogContent } {
  let result: ReturnType<typeof verifySignedData>;
  try {
    result = verifySignedData(der, { trust: options.trust, at: options.at, ekus: catalogSignerEkus });
  } catch (e) {
    if (isCabferryError(e)) throw new MetadataError('META_CATALOG_INVALID', `${member}: ${e.message}`, member);
    throw e;
  }
  if (result.contentType !== Oid.ctl) {
    throw new MetadataError('META_CATALOG_CONTENT_TYPE', `${member}: content type ${result.contentType} is not a catalog (CTL ${Oid.ctl})`, member);
  }
  const valid = result.signatures.filter((s) => s.valid);
  if (valid.length === 0) {
    const why = result.signatures.map((s) => s.reason).filter((r): r is string => Boolean(r)).join('; ') || 'no signature';
    throw new MetadataError('META_CATALOG_UNTRUSTED', `${member}: no valid signature (${why})`, member);
  }
  let content: CatalogContent;
  try {
    content = parseCatalogContent(result.content, member);
  } catch (e) {
    if (isCabferryError(e)) throw new MetadataError('META_CATALOG_MALFORMED', e.message, member);
    throw e;
  }
  return {
    content,
    check: {
      member,
      valid: true,
      digestAlgorithms: [...new Set(valid.map((s) => s.digestAlgorithm).filter((a): a is string => a !== null))],
      signer: valid[0].signer ?? null,
      entries: content.entries.length,
      reason: null,
    },
  };
}

/** update.mum and update.cat must both be there: that pair is what wusa/pkgmgr trust (the hash check is step 3). */
function checkTopLevelPair(metadata: Map<string, Buffer>): void {
  if (!metadata.has('update.mum')) throw new MetadataError('META_MUM_MISSING', 'the payload has no update.mum', 'update.mum');
  if (!metadata.has('update.cat')) throw new MetadataError('META_CATALOG_MISSING', 'the payload has no update.cat to prove update.mum', 'update.cat');
}

function checkVouchedFor(key: string, digests: FlatDigests, index: ReturnType<typeof catalogIndex>, verified: Map<string, CatalogContent>): void {
  const ownCatalogKey = key.replace(/\.mum$/, '.cat');
  const own = key.endsWith('.mum') ? verified.get(ownCatalogKey) : undefined;
  if (own !== undefined) {
    if (entriesForDigests(catalogIndex([own]), digests).length === 0) {
      const sha256 = digests.get('sha256')?.toString('hex').slice(0, 16) ?? '?';
      throw new MetadataError('META_HASH_MISMATCH', `${key} (sha256 ${sha256}…) is not listed in its signed catalog ${ownCatalogKey}: it was altered or does not belong to this package`, key);
    }
    return;
  }
  if (entriesForDigests(index, digests).length === 0) {
    throw new MetadataError('META_NOT_IN_CATALOG', `${key} is not listed in any validly signed catalog of the payload`, key);
  }
}

function checkNamedEntry(catalogKey: string, fileName: string, member: FlatDigests, digests: { algorithm: string; digest: Buffer; kind: string }[]): void {
  const comparable = digests.filter((d) => d.kind === 'flat' && member.has(d.algorithm));
  if (comparable.length === 0) return;
  if (!comparable.some((d) => member.get(d.algorithm)?.equals(d.digest))) {
    throw new MetadataError('META_HASH_MISMATCH', `${fileName} does not match its entry in the signed ${catalogKey}`, fileName);
  }
}

/**
 * Every `<Source>` names a member of the cab; a RAW source has the file's length; metadata
 * members (the ones hashed anyway) match their Source hash. Payload members are not decompressed
 * for this: the cab's Authenticode signature already covers their bytes.
 */
function checkContainerIndex(cix: ContainerIndex, members: readonly CabMember[], digests: Map<string, FlatDigests>): NonNullable<MetadataVerification['containerIndex']> {
  const byName = new Map(members.map((m) => [memberKey(m.name), m]));
  let sourcesChecked = 0;
  let hashesChecked = 0;
  for (const file of cix.files) {
    if (file.source === null) continue;
    const key = memberKey(file.source.member);
    const member = byName.get(key);
    if (member === undefined) {
      throw new MetadataError('META_CIX_MISSING_MEMBER', `_manifest_.cix.xml lists member "${file.source.member}" (file ${file.id}), which the cab does not contain`, file.source.member);
    }
    if (file.source.type.toUpperCase() === 'RAW' && member.size !== file.length) {
      throw new MetadataError('META_CIX_SIZE_MISMATCH', `member "${member.name}" is ${member.size} bytes; _manifest_.cix.xml says ${file.length}`, member.name);
    }
    sourcesChecked++;
    const actual = digests.get(key)?.get(file.source.hash?.algorithm ?? '');
    if (actual !== undefined && file.source.hash !== null) {
      if (actual.toString('hex') !== file.source.hash.hex) {
        throw new MetadataError('META_CIX_HASH_MISMATCH', `member "${member.name}" does not hash to the ${file.source.hash.algorithm} in _manifest_.cix.xml`, member.name);
      }
      hashesChecked++;
    }
  }
  return { files: cix.files.length, sourcesChecked, hashesChecked };
}
