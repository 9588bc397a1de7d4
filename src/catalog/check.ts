import fs = require('node:fs');
import type { Catalog } from './catalog';
import { describeDistrust, distrustRemedy, TrustJudge, type DistrustKind, type LiveTrust } from './live-trust';
import { BOTH_PURPOSES, bothPurposesWarning, servesBoth } from './trust';

/**
 * `catalog check`: is every row backed by the right bytes, and every byte backed by a row?
 * Re-hashes each blob, finds missing, truncated or altered blobs, orphan blobs and stray
 * files, leftover temp files of dead imports, and runs SQLite's own integrity checks.
 * With `repair`, removes what can be removed safely (orphans, strays, dead temps) under the
 * catalog write lock, and deletes blobs whose bytes no longer match their name (worthless,
 * and in the way of a restore); it never deletes a row — a missing blob comes back by
 * re-importing the same file. With the trust it holds now, it also finds every imported payload
 * that does not chain to an anchor trusted now (./live-trust.ts: removed since, a one-off import
 * anchor, an anchor held for signatures only, no chain); no repair makes those trusted again, only
 * `trust add` of an anchor (each problem says which, `remedy`). Anchors
 * trusted for both payloads and signatures are warnings (the report stays ok).
 */

export type ProblemKind =
  | 'database-integrity'
  | 'foreign-key'
  | 'missing-blob'
  | 'blob-size-mismatch'
  | 'blob-hash-mismatch'
  | 'orphan-blob'
  | 'stray-file'
  | 'leftover-temp'
  | 'untrusted-payload'
  | 'record-mismatch'
  | 'record-incomplete';

export interface CheckProblem {
  kind: ProblemKind;
  sha256?: string;
  path?: string;
  detail: string;
  /** set where the problem has one (untrusted-payload: PAYLOAD_UNTRUSTED, record-mismatch: RECORD_MISMATCH) */
  code?: string;
  /** untrusted-payload: why it does not chain now (live-trust.ts Distrust kinds) */
  distrust?: DistrustKind;
  /** untrusted-payload: what the operator can do about it, in words (distrust.ts distrustRemedy) */
  remedy?: string;
  /** record-mismatch: which facts of the record its blob contradicts (kb, architecture, …); record-incomplete: which it lacks */
  facts?: string[];
  /** removed by --repair */
  repaired: boolean;
}

export interface CheckReport {
  catalog: string;
  ok: boolean;
  payloadsChecked: number;
  bytesHashed: number;
  problems: CheckProblem[];
  /** temp files of imports still running: not problems, just noted */
  tempsInUse: string[];
  /** what is not wrong with the catalog's data but weakens what it vouches for (ok stays true) */
  warnings: CheckWarning[];
}

/**
 * An anchor trusted for both payloads and signatures (kept so by the schema 5 upgrade, or added
 * `--for both`): the root of bundle and media signers is then also an update root.
 */
export interface CheckWarning {
  kind: 'anchor-both-purposes';
  code: typeof BOTH_PURPOSES;
  fingerprint: string;
  subject: string;
  /** what it allows and how to narrow it */
  detail: string;
}

export interface CheckOptions {
  repair?: boolean;
  /** the trust the catalog holds now: payloads that no longer chain to it are problems (none judged without it) */
  trust?: LiveTrust;
  /**
   * --deep: each intact blob read again and compared with its record (../importer/recheck.ts,
   * passed in: the catalog does not know how payloads are read); a difference is a problem
   */
  recheck?: (sha256: string) => RecheckFinding | null;
  /** called after each blob is hashed (progress) */
  onBlob?: (done: number, total: number, bytes: number) => void;
}

/**
 * What --deep found of one record: it contradicts its blob (a problem no repair touches), or it
 * lacks facts a newer cabferry records (`values`, from the verified blob: --repair writes them).
 */
export interface RecheckFinding {
  kind: 'differs' | 'incomplete';
  facts: string[];
  detail: string;
  values?: Record<string, unknown>;
}

export function checkCatalog(catalog: Catalog, options: CheckOptions = {}): CheckReport {
  const repair = options.repair ?? false;
  const problems: CheckProblem[] = [];

  for (const line of catalog.db.pragma('integrity_check', { simple: false }) as { integrity_check: string }[]) {
    if (line.integrity_check !== 'ok') problems.push({ kind: 'database-integrity', detail: line.integrity_check, repaired: false });
  }
  for (const fk of catalog.db.pragma('foreign_key_check') as { table: string; rowid: number; parent: string }[]) {
    problems.push({ kind: 'foreign-key', detail: `${fk.table} row ${fk.rowid} points at a missing ${fk.parent} row`, repaired: false });
  }

  // Re-hash outside the write lock: it is the slow part and only reads committed blobs.
  const rows = catalog.payloadSizes();
  let done = 0;
  let bytesHashed = 0;
  for (const [sha256, size] of rows) {
    const blobPath = catalog.blobPath(sha256);
    // the judgement import makes of a blob it would call a duplicate (BlobStore.storedState)
    const stored = catalog.blobs.storedState(sha256, size);
    // a blob that cannot be read stops the check, as it always has: no verdict is made of it
    if (stored.state === 'unreadable') throw stored.error;
    if (stored.state === 'missing') {
      problems.push({ kind: 'missing-blob', sha256, path: blobPath, detail: 'the catalog lists this payload but its blob is missing; import the same file again to restore it', repaired: false });
    } else if (stored.state === 'altered' && 'size' in stored) {
      removeAlteredBlob(problems, { kind: 'blob-size-mismatch', sha256, path: blobPath, detail: `blob is ${stored.size} bytes, the catalog recorded ${size}` }, repair);
    } else {
      bytesHashed += size;
      if (stored.state === 'altered') {
        removeAlteredBlob(problems, { kind: 'blob-hash-mismatch', sha256, path: blobPath, detail: `blob content hashes to ${stored.sha256}: it was altered on disk` }, repair);
      } else {
        const finding = options.recheck?.(sha256) ?? null;
        if (finding?.kind === 'differs') problems.push({ kind: 'record-mismatch', code: 'RECORD_MISMATCH', sha256, path: blobPath, facts: finding.facts, detail: finding.detail, repaired: false });
        if (finding?.kind === 'incomplete') {
          const repaired = repair && finding.values !== undefined && catalog.addPayloadFacts(sha256, finding.values);
          problems.push({ kind: 'record-incomplete', code: 'RECORD_INCOMPLETE', sha256, path: blobPath, facts: finding.facts, detail: finding.detail, repaired });
        }
      }
    }
    options.onBlob?.(++done, rows.size, bytesHashed);
  }

  // Orphans are judged under the write lock: an import renames its blob into place and
  // inserts the row inside one transaction, so under the lock every blob either has its row
  // or belongs to an import that died.
  const findOrphans = (): void => {
    const current = catalog.payloadSizes();
    for (const blob of catalog.blobs.listBlobs()) {
      if ('stray' in blob) {
        problems.push({ kind: 'stray-file', path: blob.stray, detail: 'not a content-addressed blob', repaired: repair && removePath(blob.stray) });
      } else if (!current.has(blob.sha256)) {
        problems.push({ kind: 'orphan-blob', sha256: blob.sha256, path: blob.path, detail: 'blob not referenced by any payload row (left by an interrupted import)', repaired: repair && removePath(blob.path) });
      }
    }
  };
  if (catalog.readonly) findOrphans();
  else catalog.withWriteLock(findOrphans);

  if (options.trust !== undefined) {
    const judge = new TrustJudge(catalog, options.trust);
    for (const p of catalog.payloads()) {
      const distrust = judge.distrustOf(p.sha256);
      // a missing blob is its own problem above: it is not proven, and says so once
      if (distrust === null || distrust.kind === 'blob-missing') continue;
      problems.push({ kind: 'untrusted-payload', code: 'PAYLOAD_UNTRUSTED', distrust: distrust.kind, sha256: p.sha256, detail: `${p.kb} (${p.fileName}): ${describeDistrust(distrust)}`, remedy: distrustRemedy(distrust), repaired: false });
    }
  }

  const tempsInUse: string[] = [];
  for (const temp of catalog.blobs.listTemps()) {
    if (temp.inUse) {
      tempsInUse.push(temp.path);
      continue;
    }
    problems.push({ kind: 'leftover-temp', path: temp.path, detail: `temp file of an import that did not finish (${temp.size} bytes)`, repaired: repair && removePath(temp.path) });
  }

  const warnings = catalog.trustAnchorRecords().filter(servesBoth).map((a): CheckWarning => ({ kind: 'anchor-both-purposes', code: BOTH_PURPOSES, fingerprint: a.fingerprint, subject: a.subject, detail: bothPurposesWarning(a) }));

  return {
    catalog: catalog.dir,
    ok: problems.every((p) => p.repaired),
    payloadsChecked: rows.size,
    bytesHashed,
    problems,
    tempsInUse,
    warnings,
  };
}

/**
 * An altered blob is still a problem after repair (its row has no good bytes), but removing
 * it lets the next import of the same file restore the blob instead of calling it a duplicate.
 */
function removeAlteredBlob(problems: CheckProblem[], problem: Omit<CheckProblem, 'repaired'>, repair: boolean): void {
  const removed = repair && removePath(problem.path as string);
  problems.push({
    ...problem,
    detail: `${problem.detail}; ${removed ? 'removed it: import the same file again to restore it' : 'import the same file again to replace it with the verified bytes'}`,
    repaired: false,
  });
}

function removePath(p: string): boolean {
  try {
    fs.rmSync(p, { recursive: true, force: true });
    return true;
  } catch {
    return false;
  }
}
