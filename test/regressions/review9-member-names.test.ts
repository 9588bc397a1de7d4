import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hasUsableOsslsigncode } from '../../scripts/lib/authenticode-sign';
import { fixturePath, runCli, tempDir } from '../common.helpers';
import { readAllMembers } from '../package/package.helpers';
import { signedCabinet } from './review9.helpers';

/**
 * Review 9 (h/review9), finding R9-4: a second update.mum spelled "update.mum." (or with a
 * trailing space) is not a metadata member to cabferry, so it is neither checked against the
 * signed update.cat nor seen as a duplicate — but Windows strips trailing dots and spaces from
 * the last path segment when a file is created through the Win32 API, so extracting the cab on
 * the target writes it *as update.mum*, over the verified one (it comes later in the cab).
 *
 * src/package/verify-metadata.ts readMetadataMembers refuses two members named update.mum
 * ("which one would pkgmgr read? Refuse rather than guess", PKG_DUPLICATE_MEMBER), comparing
 * names lower-cased with / for \ (memberKey); isMetadataMember matches /\.(mum|cat|manifest)$/,
 * so "update.mum." is skipped before that check. Metadata verification exists for exactly this
 * case — a payload cab re-packed and re-signed by someone whose key the operator trusts, whose
 * update.mum says something else (a different restart, parent or KB) — and here it reports
 * "metadata verified" about an update.mum that is not the one installed.
 *
 * Built here: fixtures/signed/payload-bare.cab (KB4493730's package cab) plus "update.mum."
 * holding its update.mum with restart="possible" changed to "never", re-signed by the fixture
 * leaf. Expected: refused like a duplicate update.mum (or its metadata not verified).
 * How sure: certain of what cabferry does; that CBS/expand on Server 2008 writes the member
 * through a path that strips the dot is the Win32 rule for non-\\?\ paths, not tried on a host.
 *
 * Needs osslsigncode >= 2.9 (the signature).
 */

const root = fixturePath('pki', 'root.pem');

describe('review9 R9-4: a second update.mum whose name Windows reads as update.mum', { skip: !hasUsableOsslsigncode() && 'osslsigncode >= 2.9 not installed' }, () => {
  const dir = tempDir('cabferry-review9-names-');
  const members = readAllMembers(fixturePath('signed', 'payload-bare.cab'));
  const mum = members.find((m) => m.name === 'update.mum');
  assert.ok(mum !== undefined);
  const altered = Buffer.from(mum.data.toString('utf8').replace('restart="possible"', 'restart="never"'));
  assert.notDeepEqual(altered, mum.data);

  for (const spelling of ['update.mum.', 'update.mum ']) {
    it(`a cab holding update.mum and ${JSON.stringify(spelling)} is refused, not "metadata verified"`, () => {
      const sub = fs.mkdtempSync(path.join(dir, 'cab-'));
      const cab = signedCabinet(path.join(sub, 'Windows6.0-KB4493730-x64.cab'), [...members, { name: spelling, data: altered }]);
      const inspected = runCli(['inspect', cab, '--trust', root, '--json']);
      const doc = JSON.parse(inspected.stdout) as { payloads: { metadataVerified: boolean; restart: string | null }[]; errors: { code: string }[] };
      const r = runCli(['import', cab, '--trust', root, '--catalog', path.join(sub, 'catalog'), '--json']);
      const result = (JSON.parse(r.stdout) as { results: { outcome: string; code: string | null }[] }).results[0];
      // fails today: inspect exit 0, metadataVerified true, restart "possible"; import "imported"
      const seen = doc.payloads[0] ? { metadataVerified: doc.payloads[0].metadataVerified, restart: doc.payloads[0].restart } : doc.errors;
      assert.ok(inspected.status !== 0 && result.outcome !== 'imported', `inspect exit ${inspected.status} ${JSON.stringify(seen)}; import ${JSON.stringify(result)}`);
    });
  }
});
