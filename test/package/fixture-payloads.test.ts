/**
 * inspectPayload on the committed Server 2008 SP2 / Windows 7 SP1 fixture MSUs (fixtures/payloads,
 * made by scripts/make-fixtures.ts, signed by the test PKI). Expected values come from the
 * generator's own record, fixtures/payloads/expected.json; the signing summary (dual vs
 * sha2-only vs sha1-only) is derived from the verified signatures, never from a list.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { loadTrustAnchors } from '../../src/authenticode';
import { inspectPayloadReport } from '../../src/package/inspect';
import { fixturePath } from '../common.helpers';
import { loadKnowledgeBase } from '../../src/knowledge/knowledge-base';

const knowledgeBase = loadKnowledgeBase();

interface FixtureRecord {
  file: string;
  kb: string;
  revision: number | null;
  role: string;
  ntVersion: string;
  architecture: string;
  releaseType: string;
  restart: string;
  packageIdentity: { name: string; version: string; processorArchitecture: string };
  parents: { names: string[]; version: string; kb: string | null; buildCompare?: string; serviceCompare?: string }[];
  signatures: string;
  metadataVerified: boolean;
  innerCab: string;
  size: number;
  sha256: string;
}

const expected = JSON.parse(fs.readFileSync(fixturePath('payloads', 'expected.json'), 'utf8')) as { fixtures: FixtureRecord[] };
const trust = loadTrustAnchors([fixturePath('pki', 'root.pem')]);

test('the fixture set covers the Server 2008 SP2 story in x86 and x64, plus the Windows 7 SP1 pair', () => {
  const kbs = new Set(expected.fixtures.map((f) => `${f.kb}-${f.architecture}`));
  for (const kb of ['KB948465', 'KB4493730', 'KB4474419', 'KB4489887', 'KB4493471', 'KB4520002', 'KB4499180', 'KB4517134', 'KB4490628']) {
    for (const arch of ['x86', 'amd64']) assert.ok(kbs.has(`${kb}-${arch}`), `${kb} ${arch}`);
  }
});

for (const f of expected.fixtures) {
  test(`fixture ${f.file}: ${f.kb} ${f.role} ${f.architecture}, ${f.signatures}`, () => {
    const r = inspectPayloadReport(fixturePath('payloads', f.file), { knowledgeBase, trust });
    const p = r.payload;
    assert.equal(p.kb, f.kb);
    assert.equal(p.fileRevision, f.revision);
    assert.equal(p.kind, f.role);
    assert.equal(p.ntVersion, f.ntVersion);
    assert.equal(p.architecture, f.architecture);
    assert.equal(p.releaseType, f.releaseType);
    assert.equal(p.restart, f.restart);
    assert.deepEqual([p.identity?.name, p.identity?.version, p.identity?.processorArchitecture], [f.packageIdentity.name, f.packageIdentity.version, f.packageIdentity.processorArchitecture]);
    // expected.json groups the alternatives of one <parent>; the model has one requirement per identity, same group
    const grouped = new Map<number, typeof p.parents>();
    for (const parent of p.parents) grouped.set(parent.group ?? -1, [...(grouped.get(parent.group ?? -1) ?? []), parent]);
    assert.deepEqual(
      [...grouped.values()].map((alts) => ({
        names: alts.map((a) => a.identity.name),
        version: alts[0].identity.version,
        kb: alts[0].kb,
        buildCompare: alts[0].buildCompare,
        serviceCompare: alts[0].serviceCompare,
      })),
      f.parents.map((x) => ({ names: x.names, version: x.version, kb: x.kb, buildCompare: x.buildCompare, serviceCompare: x.serviceCompare })),
    );
    assert.equal(r.verdict.verdict, 'valid', r.verdict.reason);
    assert.equal(p.signatures, f.signatures);
    assert.equal(p.metadataVerified, f.metadataVerified, p.metadataReason);
    assert.equal(p.payloadCab, f.innerCab);
    assert.equal(p.size, f.size);
    assert.equal(p.sha256, f.sha256);
    assert.equal(p.format, 'msu');
    assert.equal(p.notes, undefined, `sources agree: ${JSON.stringify(p.notes)}`);
    if (f.architecture === 'x86' && f.ntVersion === '6.1') assert.deepEqual(p.products, ['Windows 7']);
    else assert.ok(p.products?.includes(f.ntVersion === '6.0' ? 'Windows Server 2008' : 'Windows Server 2008 R2'));
  });
}

test('payload-mum-altered.cab: Authenticode-valid, but update.mum is not what update.cat signed', () => {
  const r = inspectPayloadReport(fixturePath('signed', 'payload-mum-altered.cab'), { knowledgeBase, trust });
  assert.equal(r.verdict.verdict, 'valid');
  assert.equal(r.payload.signatures, 'dual');
  assert.equal(r.payload.metadataVerified, false);
  assert.deepEqual(r.metadata.problems.map((x) => [x.code, x.member]), [['META_HASH_MISMATCH', 'update.mum']]);
  assert.equal(r.payload.restart, 'never', 'the model shows what the altered file claims');
});
