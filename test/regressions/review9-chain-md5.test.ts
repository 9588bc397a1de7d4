import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { hasUsableOsslsigncode } from '../../scripts/lib/authenticode-sign';
import { verifyCab } from '../../src/authenticode/cab';
import { loadTrustAnchors } from '../../src/authenticode/trust';
import { fixturePath, runCli, tempDir } from '../common.helpers';
import { readAllMembers } from '../package/package.helpers';
import { leafSignedWith, signedCabinet } from './review9.helpers';

/**
 * Review 9 (h/review9), finding R9-7: a certificate signed with MD5 is accepted in a signer's
 * chain. The verifier refuses MD5 as a *signature* digest ("collisions are practical, so an MD5
 * digest proves nothing", src/authenticode/signer.ts checkDigestStrength), but the signatures on
 * the certificates between the signer and the anchor are checked with X509Certificate.verify
 * (src/authenticode/chain.ts signedBy), which accepts md5WithRSAEncryption. That is the Flame
 * attack (2012): a chosen-prefix MD5 collision turned a certificate a Microsoft CA had issued
 * for something else into a code-signing certificate that chained to the Microsoft root; Windows
 * has refused MD5 in code-signing chains since 2013 (KB2862973). Here: a code-signing leaf whose
 * certificate the fixture intermediate signed with MD5 makes a cabinet "VALID" and an importable
 * payload. Anchors keep their own (self-)signatures unchecked, so the old "Microsoft Root
 * Authority" (MD5 self-signature) is not affected; no certificate embedded in the corpus's
 * Microsoft signatures is MD5-signed (all sha1/sha256/sha512WithRSAEncryption).
 *
 * Expected: not valid (invalid, like an MD5 signature digest). The same leaf certified with
 * SHA-256 verifies (control). Needs osslsigncode >= 2.9 (it makes the Authenticode signature).
 */

const root = fixturePath('pki', 'root.pem');

describe('review9 R9-7: a signer certificate signed with MD5', { skip: !hasUsableOsslsigncode() && 'osslsigncode >= 2.9 not installed' }, () => {
  const dir = tempDir('cabferry-review9-md5-');
  const members = readAllMembers(fixturePath('signed', 'unsigned.cab'));
  const sign = (digest: 'md5' | 'sha256'): string => signedCabinet(path.join(dir, `${digest}.cab`), members, leafSignedWith(dir, digest));

  it('control: the same kind of leaf certified with SHA-256 is valid', () => {
    const v = verifyCab(sign('sha256'), { trust: loadTrustAnchors([root]) });
    assert.equal(v.verdict, 'valid', v.reason);
  });

  it('a cabinet signed by a leaf whose certificate is MD5-signed is not valid', () => {
    const file = sign('md5');
    const v = verifyCab(file, { trust: loadTrustAnchors([root]) });
    // fails today: "valid — 1 valid signature (sha256)", chain leaf → Cabferry Test Code Signing PCA → root
    assert.equal(v.verdict, 'invalid', `${v.verdict}: ${v.reason}; chain ${v.signatures[0]?.chain.map((c) => c.subject).join(' → ')}`);
    const cli = runCli(['verify', file, '--trust', root, '--json']);
    assert.equal(cli.status, 1, cli.stdout.slice(0, 300));
  });
});
