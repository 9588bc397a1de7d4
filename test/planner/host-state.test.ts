import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { familyForNtVersion, loadKnowledgeBase } from '../../src/knowledge/knowledge-base';
import { checkInstalledClaims, resolveFamily, type PlanNotes } from '../../src/planner/host-state';
import { factClaim, filesListing } from '../../src/planner/inventory/host-facts';
import { productConflict } from '../../src/planner/product-family';
import type { HostInventory, InventoryEvidence } from '../../src/planner/types';

const nt60 = loadKnowledgeBase().families.find((f) => f.ntVersion === '6.0')!;

/** an inventory file whose installed list counts how often it is read */
function countedEvidence(file: string, installed: string[], facts: InventoryEvidence['facts'], reads: { n: number }): InventoryEvidence {
  return {
    file,
    facts,
    get installed(): string[] {
      reads.n++;
      return installed;
    },
  };
}

function host(installed: string[], evidence: InventoryEvidence[]): HostInventory {
  return {
    name: 'H', product: 'Windows Server 2008', ntVersion: '6.0', build: 6002, revision: null, architecture: 'amd64', servicePack: 2,
    installed, servicingStackVersion: null, sha2CodeSigning: null, pendingReboot: false, sources: ['systeminfo'], unknown: [],
    sections: { hotfixes: true }, esuLicence: null, files: [], evidence, conflicts: [],
  };
}

describe('checkInstalledClaims', () => {
  // KB4493471 (a 2019 rollup) moves the build to 6003: a.txt, which lists it on a host reporting 6002, is no witness
  const onlyA = Array.from({ length: 400 }, (_, i) => `KB${3_100_000 + i}`);
  const both = Array.from({ length: 400 }, (_, i) => `KB${3_200_000 + i}`);
  const onlyB = Array.from({ length: 400 }, (_, i) => `KB${3_300_000 + i}`);
  const installed = ['KB4493471', ...onlyA, ...both, ...onlyB];

  it('reads each file\'s installed list a bounded number of times however many KBs the host has (was once per installed KB)', () => {
    const reads = { n: 0 };
    const evidence = [
      countedEvidence('a.txt', ['KB4493471', ...onlyA, ...both, 'KB4493471'], { build: 6002 }, reads),
      countedEvidence('b.txt', [...both, ...onlyB], {}, reads),
    ];
    checkInstalledClaims(host(installed, evidence), nt60);
    assert.ok(reads.n <= 2 * evidence.length, `installed lists read ${reads.n} times for ${evidence.length} files`);
  });

  it('believes a KB another file witnesses, doubts what only a contradicting file lists, names each file once', () => {
    const reads = { n: 0 };
    const evidence = [
      countedEvidence('a.txt', ['KB4493471', ...onlyA, ...both, 'KB4493471'], { build: 6002 }, reads),
      countedEvidence('b.txt', [...both, ...onlyB], {}, reads),
    ];
    const { conflicts, believed, doubted } = checkInstalledClaims(host(installed, evidence), nt60);
    assert.deepEqual(doubted, ['KB4493471', ...onlyA]);
    assert.deepEqual([...believed], [...both, ...onlyB]);
    assert.deepEqual(conflicts, [{
      fact: 'build',
      claims: [
        { claim: { kind: 'fact', fact: 'build', value: 6002 }, files: ['a.txt'] },
        { claim: { kind: 'installed', kb: 'KB4493471', implies: { fact: 'build', value: 6003 } }, files: ['a.txt'] },
      ],
    }]);
  });

  it('without per-file evidence, doubts only the contradicting claim', () => {
    const { believed, doubted } = checkInstalledClaims(host(installed, []), nt60);
    assert.deepEqual(doubted, ['KB4493471']);
    assert.equal(believed.size, installed.length - 1);
  });
});

describe('filesListing', () => {
  it('names the files whose installed list names a KB, in the order of the evidence, each once, reading each list once and only when asked', () => {
    const reads = { n: 0 };
    const b = countedEvidence('b.txt', ['KB3'], {}, reads);
    b.qfeList = ['KB1', 'KB3'];
    const evidence = [countedEvidence('a.txt', ['KB1', 'KB2', 'KB1'], {}, reads), b, countedEvidence('c.txt', ['KB1'], {}, reads)];
    const listedBy = filesListing(evidence);
    assert.equal(reads.n, 0, 'no list read before a question');
    // the installed lists, not the whole qfe lists: b.txt's qfe list names KB1, its installed list does not
    assert.deepEqual(listedBy('KB1'), ['a.txt', 'c.txt']);
    assert.deepEqual(listedBy('KB3'), ['b.txt']);
    assert.deepEqual(listedBy('KB9'), []);
    assert.equal(reads.n, evidence.length);
  });
});

describe('factClaim', () => {
  it('names the files whose evidence states that very value, in the order of the evidence', () => {
    const evidence: InventoryEvidence[] = [
      { file: 'a.txt', facts: { build: 6002, product: 'Windows Server 2008' }, installed: [] },
      { file: 'b.txt', facts: { build: 6003 }, installed: [] },
      { file: 'c.txt', facts: {}, installed: [] },
      { file: 'd.txt', facts: { build: 6002, sha2CodeSigning: false }, installed: [] },
    ];
    assert.deepEqual(factClaim(evidence, 'build', 6002), { claim: { kind: 'fact', fact: 'build', value: 6002 }, files: ['a.txt', 'd.txt'] });
    assert.deepEqual(factClaim(evidence, 'build', 6003).files, ['b.txt']);
    // compared as read: no file states the build "6002" as text, and false is no missing fact
    assert.deepEqual(factClaim(evidence, 'build', '6002').files, []);
    assert.deepEqual(factClaim(evidence, 'sha2CodeSigning', false).files, ['d.txt']);
    assert.deepEqual(factClaim([], 'product', 'Windows 7'), { claim: { kind: 'fact', fact: 'product', value: 'Windows 7' }, files: [] });
  });
});

describe('resolveFamily', () => {
  const noNt = (installed: string[]): HostInventory => ({ ...host(installed, []), ntVersion: null });
  const notes = (): PlanNotes => ({ incomplete: [], assumptions: [] });

  it('without an NT version, infers the one family that alone knows an installed update', () => {
    const kb = loadKnowledgeBase();
    const n = notes();
    assert.equal(resolveFamily(noNt(['KB1', 'KB4474419', 'KB4493471']), kb, n)?.ntVersion, '6.0');
    assert.deepEqual(n.incomplete, []);
  });

  it('infers no family from updates several families know, nor from updates of two families', () => {
    const kb = loadKnowledgeBase();
    const shared = notes();
    assert.equal(resolveFamily(noNt(['KB1', 'KB4474419']), kb, shared), null);
    assert.deepEqual(shared.incomplete, [{ kind: 'family-not-inferable' }]);
    const nt61Only = [...familyForNtVersion(kb, '6.1')!.updates.keys()].find((k) => !nt60.updates.has(k))!;
    const both = notes();
    assert.equal(resolveFamily(noNt(['KB4493471', nt61Only]), kb, both), null);
    assert.deepEqual(both.incomplete, [{ kind: 'family-not-inferable' }]);
  });
});

describe('productConflict', () => {
  const contradicting = (): HostInventory => ({
    ...host(['KB1', 'KB4493471'], [
      { file: 'a.txt', facts: { product: 'Windows 7' }, installed: ['KB4493471', 'KB4493471'] },
      { file: 'b.txt', facts: {}, installed: ['KB1'] },
      { file: 'c.txt', facts: {}, installed: ['KB4493471'], qfeList: [] },
    ]),
    product: 'Windows 7', ntVersion: null,
  });
  const inferred = {
    fact: 'product',
    claims: [
      { claim: { kind: 'fact', fact: 'product', value: 'Windows 7' }, files: ['a.txt'] },
      { claim: { kind: 'installed', kb: 'KB4493471', implies: { fact: 'ntVersion', value: '6.0' } }, files: ['a.txt', 'c.txt'] },
    ],
  };

  it('without an NT version, names the files that list the update the family was inferred from', () => {
    const kb = loadKnowledgeBase();
    const family = kb.families.find((f) => f.ntVersion === '6.0')!;
    assert.deepEqual(productConflict(contradicting(), kb, family), inferred);
  });

  it('names the same witness for a family of another load of the knowledge base (was: none, every update looked shared, and the first installed KB stood as witness)', () => {
    assert.deepEqual(productConflict(contradicting(), loadKnowledgeBase(), nt60), inferred);
  });

  it('with an NT version, names the files that state the product and those that state the NT version', () => {
    const h: HostInventory = {
      ...host([], [
        { file: 'a.txt', facts: { product: 'Windows 7', ntVersion: '6.0' }, installed: [] },
        { file: 'b.txt', facts: { ntVersion: '6.0' }, installed: [] },
        { file: 'c.txt', facts: { product: 'Windows 7' }, installed: [] },
      ]),
      product: 'Windows 7',
    };
    const kb = loadKnowledgeBase();
    assert.deepEqual(productConflict(h, kb, familyForNtVersion(kb, '6.0')!), {
      fact: 'product',
      claims: [
        { claim: { kind: 'fact', fact: 'product', value: 'Windows 7' }, files: ['a.txt', 'c.txt'] },
        { claim: { kind: 'fact', fact: 'ntVersion', value: '6.0' }, files: ['a.txt', 'b.txt'] },
      ],
    });
  });
});
