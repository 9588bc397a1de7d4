import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openCab } from '../../src/cab/cabinet';
import { kbFromPackageName, kbFromText, parsePackageManifest } from '../../src/package/mum';
import { kb2999226Inner } from './package.helpers';

function realMember(cabPath: string, name: string): Buffer {
  const cab = openCab(cabPath);
  try {
    const [member] = cab.findMembers(name);
    assert.ok(member, name);
    return cab.readMemberToBuffer(member, 1024 * 1024);
  } finally {
    cab.close();
  }
}

test('real Vista/2008 update.mum: identity, KB, release, restart, SP2 parent, installer, sub-packages', () => {
  const m = parsePackageManifest(realMember(kb2999226Inner('Windows6.0-KB2999226-x64'), 'update.mum'));
  assert.deepEqual(m.identity, { name: 'Package_for_KB2999226', version: '6.0.1.6', processorArchitecture: 'amd64', language: 'neutral', publicKeyToken: '31bf3856ad364e35' });
  assert.equal(m.identifier, 'KB2999226');
  assert.equal(m.kb, 'KB2999226');
  assert.equal(m.releaseType, 'Update');
  assert.equal(m.restart, 'possible');
  assert.equal(m.applicabilityEvaluation, 'deep');
  assert.equal(m.description, 'Fix for KB2999226');
  assert.equal(m.creationTimeStamp, '2015-09-10T14:57:56Z');
  assert.deepEqual(m.parents, [{
    identity: { name: 'package_for_KB948465', version: '6.0.1.18005', processorArchitecture: 'amd64', language: 'neutral', publicKeyToken: '31bf3856ad364e35', buildType: 'release', versionScope: 'nonSxS' },
    kb: 'KB948465', group: 0, disposition: 'detect', integrate: 'separate',
  }]);
  assert.equal(m.installerAssembly?.name, 'Microsoft-Windows-ServicingStack');
  assert.equal(m.installerAssembly?.versionScope, 'nonSxS');
  assert.deepEqual(m.updates.map((u) => [u.name, u.packages.map((p) => p.name)]), [
    ['2999226-13_neutral_PACKAGE', ['Package_for_KB2999226_client']],
    ['2999226-14_neutral_PACKAGE', ['Package_for_KB2999226_server']],
    ['2999226-15_neutral_PACKAGE', ['Package_for_KB2999226_sc']],
  ]);
});

test('real update-bf.mum: identifier KB2999226_BF still means KB2999226', () => {
  const m = parsePackageManifest(realMember(kb2999226Inner('Windows6.0-KB2999226-x64'), 'update-bf.mum'), 'update-bf.mum');
  assert.equal(m.identifier, 'KB2999226_BF');
  assert.equal(m.kb, 'KB2999226');
});

test('real Windows 7 update.mum: one <parent> with four alternative identities and compare attributes', () => {
  const m = parsePackageManifest(realMember(kb2999226Inner('Windows6.1-KB2999226-x64'), 'update.mum'));
  assert.equal(m.parents.length, 4);
  assert.ok(m.parents.every((p) => p.group === 0 && p.buildCompare === 'EQ' && p.serviceCompare === 'GE' && p.kb === null));
});

test('components of an update (the servicing stack case) and the FORMATS.md KB4474419 example', () => {
  const xml = `<?xml version="1.0" encoding="utf-8"?>
<assembly xmlns="urn:schemas-microsoft-com:asm.v3" manifestVersion="1.0" description="Fix for KB4474419">
 <assemblyIdentity name="Package_16_for_KB4474419" version="6.1.2.2" language="neutral" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35"/>
 <package identifier="KB4474419" releaseType="Security Update" restart="possible">
  <parent buildCompare="EQ" serviceCompare="EQ" integrate="separate" disposition="detect">
   <assemblyIdentity name="Microsoft-Windows-WinPE-LanguagePack-Package" language="fi-FI" version="6.1.7601.17514" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" buildType="release"/>
  </parent>
  <parent revisionCompare="GE"><assemblyIdentity name="Package_for_KB4490628" version="6.1.1.2"/></parent>
  <installerAssembly name="Microsoft-Windows-ServicingStack" version="6.0.0.0" language="neutral" processorArchitecture="amd64" versionScope="nonSxS" publicKeyToken="31bf3856ad364e35"/>
  <update name="4474419-28_neutral_LDR"><applicable disposition="staged"><updateComponent elevate="distribution">
   <assemblyIdentity name="Microsoft-Windows-ServicingStack" version="6.1.7601.24382" processorArchitecture="amd64" language="fi-FI" buildType="release" publicKeyToken="31bf3856ad364e35"/>
  </updateComponent></applicable></update>
 </package></assembly>`;
  const m = parsePackageManifest(Buffer.from(xml));
  assert.equal(m.kb, 'KB4474419');
  assert.equal(m.releaseType, 'Security Update');
  assert.deepEqual(m.parents.map((p) => [p.identity.name, p.kb, p.group, p.serviceCompare ?? null, p.revisionCompare ?? null]), [
    ['Microsoft-Windows-WinPE-LanguagePack-Package', null, 0, 'EQ', null],
    ['Package_for_KB4490628', 'KB4490628', 1, null, 'GE'],
  ]);
  assert.deepEqual(m.updates[0].components.map((c) => [c.name, c.version]), [['Microsoft-Windows-ServicingStack', '6.1.7601.24382']]);
});

test('KB names: package identities and identifiers', () => {
  assert.equal(kbFromPackageName('Package_for_KB948465'), 'KB948465');
  assert.equal(kbFromPackageName('package_2_for_kb2999226_server'), 'KB2999226');
  assert.equal(kbFromPackageName('Microsoft-Windows-Foundation-Package'), null);
  assert.equal(kbFromPackageName('Package_for_RollupFix'), null);
  assert.equal(kbFromText('KB4474419'), 'KB4474419');
  assert.equal(kbFromText('Fix for KB4474419'), 'KB4474419');
  assert.equal(kbFromText('RollupFix'), null);
});
