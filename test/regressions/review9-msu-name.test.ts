import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hasUsableOsslsigncode } from '../../scripts/lib/authenticode-sign';
import { fixturePath, runCli, tempDir } from '../common.helpers';
import { readAllMembers } from '../package/package.helpers';
import { signedCabinet } from './review9.helpers';

/**
 * Review 9 (h/review9), finding R9-3: which payload cab of an .msu is "the payload" — so which KB,
 * kind and parents the catalog records — is decided by the name the operator gave the file,
 * ahead of the .msu's own pkgProperties.txt. The same bytes are recorded as two different updates
 * depending on what the file is called.
 *
 * src/package/layout.ts payloadCabByName tries, in order: a cab named like the .msu file, like its
 * pkgProperties.txt, like its unattend .xml. Only the unattend .xml is checked afterwards
 * (agreesWithUnattend); with no unattend .xml nothing disagrees with the file name, and the
 * pkgProperties.txt that names the other cab becomes a cross-check *note*. An .msu that holds two
 * signed payload cabs (Win10-era MSUs carry an SSU cab next to the LCU; here one re-packed and
 * signed by a trusted leaf) is then the servicing stack update or the SHA-2 support update
 * according to its name — a rename makes the planner see KB4474419 (SHA-2 support, a prerequisite
 * of everything after 2019) in a file whose own metadata says it is KB4493730.
 *
 * Expected: what a payload is comes from its bytes, never from its name: the same file inspected
 * under two names is the same KB, or is refused under both (MSU_AMBIGUOUS_LAYOUT: two payload cabs
 * and nothing signed says which installs).
 *
 * Needs osslsigncode >= 2.9 (the outer signature).
 */

const root = fixturePath('pki', 'root.pem');
const ssu = 'Windows6.0-KB4493730-x64';
const sha2 = 'Windows6.0-KB4474419-v4-x64';

describe('review9 R9-3: an .msu with two payload cabs and no unattend .xml', { skip: !hasUsableOsslsigncode() && 'osslsigncode >= 2.9 not installed' }, () => {
  const dir = tempDir('cabferry-review9-name-');
  // KB4493730's .msu without its unattend .xml, plus KB4474419's signed payload cab
  const members = readAllMembers(fixturePath('payloads', `${ssu}.msu`)).filter((m) => !/\.xml$/i.test(m.name));
  const other = readAllMembers(fixturePath('payloads', `${sha2}.msu`)).find((m) => m.name === `${sha2}.cab`);
  assert.ok(other !== undefined && members.some((m) => m.name === `${ssu}-pkgProperties.txt`));
  const signed = signedCabinet(path.join(dir, 'signed.msu'), [...members, other]);

  const inspectAs = (name: string): { status: number; kb: string | null; payloadCab: string | null; errors: string[] } => {
    const sub = fs.mkdtempSync(path.join(dir, 'as-'));
    const file = path.join(sub, name);
    fs.copyFileSync(signed, file);
    const r = runCli(['inspect', file, '--trust', root, '--json']);
    const doc = JSON.parse(r.stdout) as { payloads: { kb: string; payloadCab?: string }[]; errors: { code: string }[] };
    return { status: r.status, kb: doc.payloads[0]?.kb ?? null, payloadCab: doc.payloads[0]?.payloadCab ?? null, errors: doc.errors.map((e) => e.code) };
  };

  it('the same bytes are the same update whatever the file is called', () => {
    const byOwnName = inspectAs(`${ssu}.msu`);
    const renamed = inspectAs(`${sha2}.msu`);
    // fails today: KB4493730 (payload cab Windows6.0-KB4493730-x64.cab) under its own name, KB4474419
    // (Windows6.0-KB4474419-v4-x64.cab) once renamed — both exit 0 with verified metadata
    // (refusing the renamed file, whose name contradicts its pkgProperties.txt, is as good)
    assert.ok(renamed.kb === byOwnName.kb || (renamed.kb === null && renamed.status !== 0), `as ${ssu}.msu: ${JSON.stringify(byOwnName)}; as ${sha2}.msu: ${JSON.stringify(renamed)}`);
  });

  it('import does not record the file as the update its name says, against its pkgProperties.txt', () => {
    const sub = fs.mkdtempSync(path.join(dir, 'import-'));
    const file = path.join(sub, `${sha2}.msu`);
    fs.copyFileSync(signed, file);
    const r = runCli(['import', file, '--trust', root, '--catalog', path.join(dir, 'catalog'), '--json']);
    const result = (JSON.parse(r.stdout) as { results: { outcome: string; kb: string | null; code: string | null }[] }).results[0];
    // fails today: imported as KB4474419
    assert.ok(result.outcome !== 'imported' || result.kb === 'KB4493730', JSON.stringify(result));
  });
});
