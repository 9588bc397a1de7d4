/**
 * Agreement with osslsigncode 2.9 over the whole real-world corpus (../shared/corpus/oracle.json,
 * "anchored" runs of SOURCES.md): for every file, the same verdict (valid vs not), and for the
 * files osslsigncode accepts, the same number of valid signatures with the same digest
 * algorithms in the same order (primary, then nested).
 *
 * Trust anchors per folder, as SOURCES.md ran osslsigncode: ms* → microsoft-roots-bundle.pem;
 * jsign → trust-anchors/jsign/*.pem (TSA: a public root set — we use the authroot bundle, which
 * holds the Symantec timestamping root that signed jsign's sample timestamp); third-party-signed
 * → authroot-all-roots-bundle.pem. Other folders hold no valid signature; they are verified
 * against the Microsoft roots and must simply not come out valid.
 *
 * Deliberate differences are listed below with the reason, and asserted exactly.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verifyCab, type FileVerdict } from '../../src/authenticode/cab';
import { loadTrustAnchors, type TrustAnchor } from '../../src/authenticode/trust';
import { CabferryError } from '../../src/errors';
import { corpusPath, loadOracle } from '../common.helpers';

const DIFFERENCES: Record<string, { verdict: FileVerdict['verdict']; reason: string }> = {
  'jsign/historical/temp01-disk2-sample.cab': {
    verdict: 'valid',
    reason:
      'osslsigncode refuses any cabinet with the PREV flag ("Multivolume cabinet file is unsupported: flags 0x0005") and never looks at ' +
      'the signature. We hash it the Windows-SIP way (iCabinet = 1 included, FORMATS.md §3.2) and the jsign test signature verifies.',
  },
};

const expectedSignatureCounts = {
  msuDual: 4,
  msSigned: 31,
};

function anchorsFor(corpusFile: string, sets: Record<string, TrustAnchor[]>): { trust: TrustAnchor[]; tsaTrust?: TrustAnchor[] } {
  if (corpusFile.startsWith('jsign/')) return { trust: sets.jsign, tsaTrust: sets.authroot };
  if (corpusFile.startsWith('third-party-signed/')) return { trust: sets.authroot };
  return { trust: sets.microsoft };
}

test('verdicts agree with osslsigncode on every corpus file', () => {
  const sets = {
    microsoft: loadTrustAnchors([corpusPath('trust-anchors', 'microsoft-roots-bundle.pem')]),
    jsign: loadTrustAnchors([corpusPath('trust-anchors', 'jsign')]),
    authroot: loadTrustAnchors([corpusPath('trust-anchors', 'authroot-all-roots-bundle.pem')]),
  };
  const oracle = loadOracle();
  assert.ok(oracle.length >= 200, `oracle lists ${oracle.length} files`);
  let valid = 0;
  let dual = 0;
  const seenDifferences = new Set<string>();

  for (const o of oracle) {
    let verdict: FileVerdict | null = null;
    try {
      verdict = verifyCab(corpusPath(o.path), anchorsFor(o.path, sets));
    } catch (e) {
      // not a readable cabinet: must be a typed input error (exit 3), never a crash
      assert.ok(e instanceof CabferryError && e.kind === 'input', `${o.path}: unexpected ${String(e)}`);
    }
    const ours = verdict?.verdict === 'valid';
    const difference = DIFFERENCES[o.path];
    if (difference !== undefined) {
      seenDifferences.add(o.path);
      assert.equal(verdict?.verdict, difference.verdict, `${o.path}: documented difference no longer holds`);
      continue;
    }
    assert.equal(ours, o.osslsigncode_rc === 0, `${o.path}: ours ${verdict?.verdict ?? 'unreadable'} (${verdict?.reason}), osslsigncode rc ${o.osslsigncode_rc}`);
    if (!ours || verdict === null) continue;
    valid++;
    const signatures = verdict.signatures.filter((s) => s.valid);
    assert.equal(signatures.length, o.verified_signatures, `${o.path}: number of valid signatures`);
    assert.deepEqual(
      signatures.map((s) => s.digestAlgorithm?.toUpperCase()),
      [...new Set(o.digest_algorithms)],
      `${o.path}: digest algorithms (primary first)`,
    );
    if (signatures.length === 2) {
      dual++;
      assert.equal(signatures[0].nested, false);
      assert.equal(signatures[1].nested, true, `${o.path}: the SHA-256 signature is the nested one`);
      assert.ok(signatures.every((s) => s.timestamp?.valid), `${o.path}: both signatures carry verified timestamps`);
    }
  }
  assert.deepEqual([...seenDifferences].sort(), Object.keys(DIFFERENCES).sort());
  // 4 MSUs + 31 ms-signed + 2 Dell + 3 jsign; the Microsoft dual-signed set is 20 files
  assert.equal(valid, expectedSignatureCounts.msuDual + expectedSignatureCounts.msSigned + 2 + 2);
  assert.equal(dual, 20);
});

test('all 4 MSUs and 31 ms-signed cabinets are valid against the Microsoft roots', () => {
  const microsoft = loadTrustAnchors([corpusPath('trust-anchors', 'microsoft-roots-bundle.pem')]);
  const files = loadOracle().filter((o) => o.path.startsWith('msu/') || o.path.startsWith('ms-signed/'));
  assert.equal(files.length, expectedSignatureCounts.msuDual + expectedSignatureCounts.msSigned);
  for (const o of files) {
    const v = verifyCab(corpusPath(o.path), { trust: microsoft, fileSha256: true });
    assert.equal(v.verdict, 'valid', `${o.path}: ${v.reason}`);
    assert.equal(v.sha256, o.sha256, `${o.path}: the verdict names the file by its SHA-256`);
    for (const s of v.signatures) {
      assert.equal(s.signer, 'Microsoft Corporation');
      assert.ok(s.chain[s.chain.length - 1].trustAnchor, 'chain ends in an anchor');
      assert.equal(s.verifiedAt, s.timestamp?.time, 'chain checked at the verified timestamp time');
    }
  }
});

test('Adobe and Oracle legacy timestamps are refused for the reason osslsigncode fails them', () => {
  const authroot = loadTrustAnchors([corpusPath('trust-anchors', 'authroot-all-roots-bundle.pem')]);
  for (const file of ['third-party-signed/file-type-fixture-adobe-flash-activex.cab', 'third-party-signed/mimetype-cab-oracle.cab']) {
    const v = verifyCab(corpusPath(file), { trust: authroot });
    assert.equal(v.verdict, 'invalid', file);
    assert.equal(v.code, 'TS_LEGACY_RSA_ENCODING', `${file}: ${v.reason}`);
    // the signature itself and the file digest are fine: only the countersignature's encoding is refused
    assert.equal(v.signatures[0].signer !== null, true);
    assert.equal(v.signatures[0].timestamp?.kind, 'authenticode');
  }
});
