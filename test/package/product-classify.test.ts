import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyPayload } from '../../src/package/classify';
import type { PackageManifest } from '../../src/package/mum';
import { architectureFromFileName, normalizeArchitecture, ntVersionFromFileName, ntVersionFromPackageVersion, productsFor } from '../../src/package/product';

test('NT version from file names and package versions', () => {
  assert.equal(ntVersionFromFileName('Windows6.0-KB4474419-v4-x64.msu'), '6.0');
  assert.equal(ntVersionFromFileName('windows6.1-kb4490628-x86.msu'), '6.1');
  assert.equal(ntVersionFromFileName('Windows8-RT-KB2999226-x64.cab'), '6.2');
  assert.equal(ntVersionFromFileName('Windows8.1-KB917607-x86.msu'), '6.3');
  assert.equal(ntVersionFromFileName('Windows10.0-KB5005565-x64.msu'), '10.0');
  assert.equal(ntVersionFromFileName('update.cab'), null);
  assert.equal(ntVersionFromPackageVersion('6.0.1.18005'), '6.0');
  assert.equal(ntVersionFromPackageVersion(undefined), null);
});

test('architectures: metadata spellings and file-name suffixes', () => {
  assert.equal(normalizeArchitecture('amd64'), 'amd64');
  assert.equal(normalizeArchitecture('X64'), 'amd64');
  assert.equal(normalizeArchitecture('x86'), 'x86');
  assert.equal(normalizeArchitecture('ia64'), 'ia64');
  assert.equal(normalizeArchitecture('wow64'), null);
  assert.equal(architectureFromFileName('Windows6.0-KB4474419-v4-x64.msu'), 'amd64');
  assert.equal(architectureFromFileName('Windows6.0-KB948465-ia64.cab'), 'ia64');
  assert.equal(architectureFromFileName('Windows6.0-KB948465.cab'), null);
});

const none = { parentNames: [], subPackageNames: [] };

test('products: ApplicabilityInfo first (server first), then parents, then sub-packages; no x86 server from NT 6.1', () => {
  assert.deepEqual(productsFor({ ntVersion: '6.0', architecture: 'x86', applicability: ['Windows Vista SP1', 'Windows Server 2008'], ...none }), ['Windows Server 2008', 'Windows Vista']);
  assert.deepEqual(productsFor({ ntVersion: '6.0', architecture: 'amd64', applicability: ['Windows Server 2008'], ...none }), ['Windows Server 2008']);
  assert.deepEqual(productsFor({ ntVersion: '6.1', architecture: 'amd64', applicability: ['Windows 7.0 Client SP1', 'Windows 7.0 Server SP1'], ...none }), ['Windows Server 2008 R2', 'Windows 7']);
  assert.deepEqual(productsFor({ ntVersion: '6.1', architecture: 'x86', applicability: ['Windows 7.0 Client SP1', 'Windows 7.0 Server SP1'], ...none }), ['Windows 7']);
  assert.deepEqual(productsFor({ ntVersion: '6.1', architecture: 'amd64', applicability: [], parentNames: ['Microsoft-Windows-Client-Features-Package'], subPackageNames: [] }), ['Windows 7']);
  assert.deepEqual(productsFor({ ntVersion: '6.0', architecture: 'amd64', applicability: [], parentNames: ['package_for_KB948465'], subPackageNames: ['Package_for_KB2999226_server'] }), ['Windows Server 2008']);
  assert.deepEqual(productsFor({ ntVersion: '6.0', architecture: 'amd64', applicability: [], ...none }), ['Windows Server 2008', 'Windows Vista']);
  assert.deepEqual(productsFor({ ntVersion: '5.2', architecture: 'x86', applicability: [], ...none }), ['Windows NT 5.2']);
  assert.deepEqual(productsFor({ ntVersion: '6.0', architecture: 'ia64', applicability: [], ...none }), ['Windows Server 2008']);
});

function manifest(over: Partial<PackageManifest>): PackageManifest {
  return {
    identity: { name: 'Package_for_KB1234567' }, identifier: 'KB1234567', kb: 'KB1234567', releaseType: 'Update', restart: null,
    applicabilityEvaluation: null, description: null, displayName: null, company: null, supportInformation: null, creationTimeStamp: null,
    parents: [], installerAssembly: null, updates: [], ...over,
  };
}

test('kind: signed metadata signals first, then the knowledge base, then titles, then releaseType', () => {
  const base = { knownRole: null, title: null, packageType: null };
  assert.equal(classifyPayload({ ...base, manifest: manifest({ releaseType: 'Service Pack' }) }).kind, 'service-pack');
  const ssu = manifest({ releaseType: 'Security Update', updates: [{ name: 'x', packages: [], components: [{ name: 'Microsoft-Windows-ServicingStack' }] }] });
  assert.equal(classifyPayload({ ...base, manifest: ssu, knownRole: 'monthly-rollup' }).kind, 'servicing-stack', 'the component outranks a (wrong) role');
  assert.equal(classifyPayload({ ...base, manifest: manifest({ releaseType: 'Security Update' }), knownRole: 'sha2-support' }).kind, 'sha2-support');
  const byTitle = (title: string) => classifyPayload({ ...base, manifest: manifest({ releaseType: 'Security Update' }), title }).kind;
  assert.equal(byTitle('2019-05 Security Only Quality Update for Windows Server 2008'), 'security-only');
  assert.equal(byTitle('2019-03 Preview of Monthly Quality Rollup for Windows Server 2008'), 'rollup-preview');
  assert.equal(byTitle('2019-04 Security Monthly Quality Rollup for Windows Server 2008'), 'monthly-rollup');
  assert.equal(byTitle('Servicing stack update for Windows Server 2008 SP2'), 'servicing-stack');
  assert.equal(byTitle('SHA-2 code signing support update for Windows Server 2008'), 'sha2-support');
  assert.equal(byTitle('Update for Universal C Runtime'), 'security-update');
  assert.equal(classifyPayload({ ...base, manifest: manifest({ releaseType: 'Hotfix' }) }).kind, 'hotfix');
  assert.equal(classifyPayload({ ...base, manifest: manifest({ releaseType: 'Update' }) }).kind, 'update');
  assert.equal(classifyPayload({ ...base, manifest: manifest({ releaseType: null }), packageType: 'Hotfix' }).kind, 'hotfix');
  assert.equal(classifyPayload({ ...base, manifest: manifest({ releaseType: 'Language Pack' }) }).kind, 'other');
});
