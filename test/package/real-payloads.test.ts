/**
 * inspectPayload on every real Microsoft MSU and Windows 6.x/8.x payload cab of the corpus.
 *
 * The expected values are pinned from the files themselves, read independently: `cabextract`
 * on each .msu and payload cab, then update.mum (assemblyIdentity, package@identifier,
 * @releaseType, @restart, every <parent>/<assemblyIdentity> with the <parent> attributes),
 * pkgProperties.txt and the unattend .xml read by eye. Signatures: oracle.json (osslsigncode
 * anchored to the Microsoft roots) says SHA-1 primary + nested SHA-256, both valid, for all.
 * Catalog counts: the .cat members cabextract lists; member counts: every .mum/.manifest member.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { openCab } from '../../src/cab/cabinet';
import { inspectPayloadReport } from '../../src/package/inspect';
import { parsePackageManifest } from '../../src/package/mum';
import { readMetadataMembers } from '../../src/package/verify-metadata';
import { hasTool, loadOracle, tempDir } from '../common.helpers';
import { corpusMsu, kb2999226Inner, microsoftTrust } from './package.helpers';
import { loadKnowledgeBase } from '../../src/knowledge/knowledge-base';

const knowledgeBase = loadKnowledgeBase();

interface Expected {
  file: string;
  format: 'msu' | 'cab';
  kb: string;
  architecture: string;
  ntVersion: string;
  products: string[];
  identity: [name: string, version: string];
  releaseType: string;
  restart: string | null;
  /** parent identity names in file order, with version, and the KB when the parent is a KB package */
  parents: [name: string, version: string, kb: string | null][];
  /** the <parent> attributes (the same on every parent of these files) */
  parentAttributes: Record<string, string>;
  catalogs: number;
  membersVerified: number;
  payloadCab?: string;
}

const win6xClient = ['Microsoft-Windows-Client-Features-Package', '6.1.7601.17514', null] as [string, string, null];
const sp1Compare = { buildCompare: 'EQ', serviceCompare: 'GE', disposition: 'detect', integrate: 'separate' };
const parent61 = (name: string): [string, string, null] => [name, '6.1.7601.17514', null];
const parent62 = (name: string): [string, string, null] => [name, '6.2.9200.16384', null];
const parent63 = (name: string): [string, string, null] => [name, '6.3.9600.16384', null];
const languagePacks = ['fr-FR', 'fi-FI', 'ja-JP'];

const expected: Expected[] = [
  {
    file: corpusMsu('Windows6.1-KB2999226-x64.msu'), format: 'msu', kb: 'KB2999226', architecture: 'amd64', ntVersion: '6.1',
    products: ['Windows Server 2008 R2', 'Windows 7'], identity: ['Package_for_KB2999226', '6.1.1.6'], releaseType: 'Update', restart: 'possible',
    parents: [win6xClient, parent61('Microsoft-Windows-Server-Features-Package')], parentAttributes: sp1Compare,
    catalogs: 6, membersVerified: 16, payloadCab: 'Windows6.1-KB2999226-x64.cab',
  },
  {
    file: corpusMsu('Windows6.1-KB3118401-x64.msu'), format: 'msu', kb: 'KB3118401', architecture: 'amd64', ntVersion: '6.1',
    products: ['Windows Server 2008 R2', 'Windows 7'], identity: ['Package_for_KB3118401', '6.1.1.1'], releaseType: 'Update', restart: 'possible',
    parents: [win6xClient, parent61('Microsoft-Windows-Server-Features-Package'), parent61('Microsoft-Windows-ServerCore-Package'), parent61('Microsoft-Windows-EmbeddedCore-Package')],
    parentAttributes: sp1Compare, catalogs: 8, membersVerified: 18, payloadCab: 'Windows6.1-KB3118401-x64.cab',
  },
  {
    file: corpusMsu('Windows8.1-KB917607-x64.msu'), format: 'msu', kb: 'KB917607', architecture: 'amd64', ntVersion: '6.3',
    products: ['Windows Server 2012 R2', 'Windows 8.1'], identity: ['Microsoft-Windows-Winhelp-Update-Client-TopLevel', '6.3.1.0'], releaseType: 'Update', restart: null,
    // 24 language packs, all 6.3.0.0 (only the first three pinned by language below)
    parents: Array.from({ length: 24 }, () => ['Microsoft-Windows-WindowsFoundation-LanguagePack-Package', '6.3.0.0', null] as [string, string, null]),
    parentAttributes: {}, catalogs: 50, membersVerified: 125, payloadCab: 'Windows8.1-KB917607-x64.cab',
  },
  {
    file: corpusMsu('Windows8.1-KB917607-x86.msu'), format: 'msu', kb: 'KB917607', architecture: 'x86', ntVersion: '6.3',
    // no 32-bit Server 2012 R2 exists
    products: ['Windows 8.1'], identity: ['Microsoft-Windows-Winhelp-Update-Client-TopLevel', '6.3.1.0'], releaseType: 'Update', restart: null,
    parents: Array.from({ length: 24 }, () => ['Microsoft-Windows-WindowsFoundation-LanguagePack-Package', '6.3.0.0', null] as [string, string, null]),
    parentAttributes: {}, catalogs: 50, membersVerified: 100, payloadCab: 'Windows8.1-KB917607-x86.cab',
  },
  {
    file: kb2999226Inner('Windows6.0-KB2999226-x64'), format: 'cab', kb: 'KB2999226', architecture: 'amd64', ntVersion: '6.0',
    products: ['Windows Server 2008', 'Windows Vista'], identity: ['Package_for_KB2999226', '6.0.1.6'], releaseType: 'Update', restart: 'possible',
    // the Server 2008 / Vista SP2 package is the prerequisite
    parents: [['package_for_KB948465', '6.0.1.18005', 'KB948465']], parentAttributes: { disposition: 'detect', integrate: 'separate' },
    catalogs: 20, membersVerified: 30,
  },
  {
    file: kb2999226Inner('Windows6.0-KB2999226-x86'), format: 'cab', kb: 'KB2999226', architecture: 'x86', ntVersion: '6.0',
    products: ['Windows Server 2008', 'Windows Vista'], identity: ['Package_for_KB2999226', '6.0.1.6'], releaseType: 'Update', restart: 'possible',
    parents: [['package_for_KB948465', '6.0.1.18005', 'KB948465']], parentAttributes: { disposition: 'detect', integrate: 'separate' },
    catalogs: 20, membersVerified: 26,
  },
  {
    file: kb2999226Inner('Windows6.1-KB2999226-x64'), format: 'cab', kb: 'KB2999226', architecture: 'amd64', ntVersion: '6.1',
    products: ['Windows Server 2008 R2', 'Windows 7'], identity: ['Package_for_KB2999226', '6.1.1.7'], releaseType: 'Update', restart: 'possible',
    parents: [win6xClient, parent61('Microsoft-Windows-Server-Features-Package'), parent61('Microsoft-Windows-ServerCore-Package'), parent61('Microsoft-Windows-EmbeddedCore-Package')],
    parentAttributes: sp1Compare, catalogs: 8, membersVerified: 18,
  },
  {
    file: kb2999226Inner('Windows6.1-KB2999226-x86'), format: 'cab', kb: 'KB2999226', architecture: 'x86', ntVersion: '6.1',
    products: ['Windows 7'], identity: ['Package_for_KB2999226', '6.1.1.7'], releaseType: 'Update', restart: 'possible',
    parents: [win6xClient, parent61('Microsoft-Windows-EmbeddedCore-Package')], parentAttributes: sp1Compare, catalogs: 8, membersVerified: 14,
  },
  {
    file: kb2999226Inner('Windows8-RT-KB2999226-x64'), format: 'cab', kb: 'KB2999226', architecture: 'amd64', ntVersion: '6.2',
    products: ['Windows Server 2012', 'Windows 8'], identity: ['Package_for_KB2999226', '6.2.1.9'], releaseType: 'Update', restart: 'possible',
    parents: [
      parent62('Microsoft-Windows-Client-Features-Package'), parent62('Microsoft-Windows-Server-Features-Package'),
      parent62('Microsoft-Windows-ServerCore-SKU-Foundation-Package-base'), parent62('Microsoft-Windows-EmbeddedEdition'),
    ],
    parentAttributes: sp1Compare, catalogs: 8, membersVerified: 18,
  },
  {
    file: kb2999226Inner('Windows8-RT-KB2999226-x86'), format: 'cab', kb: 'KB2999226', architecture: 'x86', ntVersion: '6.2',
    products: ['Windows 8'], identity: ['Package_for_KB2999226', '6.2.1.9'], releaseType: 'Update', restart: 'possible',
    parents: [parent62('Microsoft-Windows-Client-Features-Package'), parent62('Microsoft-Windows-EmbeddedEdition')], parentAttributes: sp1Compare,
    catalogs: 8, membersVerified: 14,
  },
  {
    file: kb2999226Inner('Windows8.1-KB2999226-x64'), format: 'cab', kb: 'KB2999226', architecture: 'amd64', ntVersion: '6.3',
    products: ['Windows Server 2012 R2', 'Windows 8.1'], identity: ['Package_for_KB2999226', '6.3.1.9'], releaseType: 'Update', restart: 'possible',
    parents: [
      parent63('Microsoft-Windows-Client-Features-Package'), parent63('Microsoft-Windows-ServerCore-SKU-Foundation-Package'),
      parent63('Microsoft-Windows-Server-Features-Package'),
    ],
    parentAttributes: sp1Compare, catalogs: 4, membersVerified: 9,
  },
  {
    file: kb2999226Inner('Windows8.1-KB2999226-x86'), format: 'cab', kb: 'KB2999226', architecture: 'x86', ntVersion: '6.3',
    products: ['Windows 8.1'], identity: ['Package_for_KB2999226', '6.3.1.9'], releaseType: 'Update', restart: 'possible',
    parents: [parent63('Microsoft-Windows-Client-Features-Package')], parentAttributes: sp1Compare, catalogs: 4, membersVerified: 7,
  },
];

const oracle = new Map(loadOracle().map((o) => [o.path, o]));

for (const e of expected) {
  const name = path.basename(e.file);
  test(`real payload ${name}: metadata as the files say, signature and catalogs verified`, () => {
    const report = inspectPayloadReport(e.file, { knowledgeBase, trust: microsoftTrust() });
    const p = report.payload;
    assert.equal(p.kb, e.kb);
    assert.equal(p.format, e.format);
    assert.equal(p.fileName, name);
    assert.equal(p.architecture, e.architecture);
    assert.equal(p.ntVersion, e.ntVersion);
    assert.deepEqual(p.products, e.products);
    assert.equal(p.product, e.products[0]);
    assert.deepEqual([p.identity?.name, p.identity?.version], e.identity);
    assert.equal(p.releaseType, e.releaseType);
    assert.equal(p.restart, e.restart);
    assert.equal(p.kind, 'update', 'KB2999226/KB3118401/KB917607 are plain updates (releaseType "Update", no role in the knowledge base)');
    assert.deepEqual(p.parents.map((x) => [x.identity.name, x.identity.version, x.kb]), e.parents);
    // each of these files has one <parent> element: its identities are alternatives of one group
    assert.ok(p.parents.every((x) => x.group === 0));
    for (const parent of p.parents) {
      const { buildCompare, serviceCompare, revisionCompare, disposition, integrate } = parent;
      const attrs = Object.fromEntries(Object.entries({ buildCompare, serviceCompare, revisionCompare, disposition, integrate }).filter(([, v]) => v !== undefined));
      assert.deepEqual(attrs, e.parentAttributes);
    }
    if (e.kb === 'KB917607') {
      assert.deepEqual(p.parents.slice(0, 3).map((x) => x.identity.language), languagePacks);
    }
    assert.equal(p.payloadCab, e.payloadCab);

    // the file's signatures: as osslsigncode says (oracle.json), both valid → "dual"
    const rel = path.relative(path.join(e.file, '..', '..'), e.file);
    const o = [...oracle.values()].find((x) => x.path.endsWith(rel));
    assert.ok(o, `oracle entry for ${rel}`);
    assert.equal(o.verified_signatures, 2);
    assert.deepEqual([...new Set(o.digest_algorithms.map((a) => a.toLowerCase()))].sort(), ['sha1', 'sha256']);
    assert.equal(report.verdict.verdict, 'valid');
    assert.equal(p.signatures, 'dual');
    assert.equal(p.sha256, o.sha256);
    assert.equal(p.size, o.size);
    if (e.format === 'msu') assert.equal(report.payloadCabVerdict?.verdict, 'valid', 'the payload cab inside the MSU is signed too');

    // metadata: every catalog's signature valid (Microsoft Windows / Windows Verification PCA chains),
    // every .mum and .manifest listed
    assert.equal(p.metadataVerified, true, report.metadata.reason ?? '');
    assert.deepEqual(report.metadata.problems, []);
    assert.equal(report.metadata.catalogs.length, e.catalogs);
    assert.ok(report.metadata.catalogs.every((c) => c.valid && c.signer !== null));
    assert.equal(report.metadata.membersVerified, e.membersVerified);
    assert.ok(report.metadata.containerIndex !== null && report.metadata.containerIndex.hashesChecked > 0, '_manifest_.cix.xml checked');
  });
}

test('pkgProperties.txt of the real MSUs: ASCII with CRLF, keys as wusa reads them', () => {
  const r = inspectPayloadReport(corpusMsu('Windows6.1-KB3118401-x64.msu'), { knowledgeBase, trust: microsoftTrust() });
  assert.ok(r.pkgProperties);
  assert.equal(r.pkgProperties.encoding, 'utf-8');
  assert.equal(r.pkgProperties.entries['KB Article Number'], '3118401');
  assert.equal(r.pkgProperties.entries['Package Type'], 'Update');
  assert.equal(r.pkgProperties.entries['Applies to'], 'Windows 6.1');
  assert.deepEqual(r.pkgProperties.applicability, ['Windows 7.0 Client SP1', 'Windows 7.0 Server Core SP1', 'Windows 7.0 Embedded SP1', 'Windows 7.0 Server SP1']);
  assert.ok(r.unattend);
  assert.equal(r.unattend[0].sourceFileName, 'Windows6.1-KB3118401-x64.CAB');
  assert.equal(r.payload.notes, undefined, 'file name, pkgProperties, unattend and update.mum agree');
});

test('oracle: update.mum as cabextract extracts it is byte for byte what inspect verified and parsed', (t) => {
  if (!hasTool('cabextract')) return t.skip('cabextract not installed');
  const dir = tempDir('cabferry-cabextract-');
  for (const e of expected) {
    let payloadCab = e.file;
    if (e.format === 'msu') {
      const out = path.join(dir, path.basename(e.file));
      const r = spawnSync('cabextract', ['-q', '-d', out, '-F', e.payloadCab as string, e.file]);
      assert.equal(r.status, 0, String(r.stderr));
      payloadCab = path.join(out, e.payloadCab as string);
    }
    const mum = spawnSync('cabextract', ['-q', '-p', '-F', 'update.mum', payloadCab], { maxBuffer: 16 * 1024 * 1024 }).stdout;
    assert.ok(mum.length > 0, `cabextract found update.mum in ${payloadCab}`);
    const cab = openCab(payloadCab);
    try {
      assert.deepEqual(readMetadataMembers(cab).documents.get('update.mum'), mum);
    } finally {
      cab.close();
    }
    assert.deepEqual(
      [parsePackageManifest(mum).kb, parsePackageManifest(mum).identity.processorArchitecture],
      [e.kb, e.architecture],
    );
  }
});
