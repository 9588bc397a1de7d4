/**
 * inspectPayload over the whole real-world corpus (../shared/corpus/oracle.json, 207 files):
 * exactly the 12 Microsoft update payloads (4 MSUs, 8 payload cabs) come out as payloads, all
 * with verified metadata; everything else — WSUSSCAN.cab, Office and third-party cabs, the
 * hostile test cabinets of libmspack/cabextract/libarchive — ends in a typed input error.
 * Nothing crashes (a non-CabferryError or an internal error fails the test).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CabferryError } from '../../src/errors';
import { inspectPayloadReport } from '../../src/package/inspect';
import { corpusPath, loadOracle } from '../common.helpers';
import { microsoftTrust } from './package.helpers';
import { loadKnowledgeBase } from '../../src/knowledge/knowledge-base';

const knowledgeBase = loadKnowledgeBase();

test('corpus sweep: 12 payloads, every other file a typed input error, no crash', () => {
  const payloads: string[] = [];
  const refused = new Map<string, number>();
  for (const o of loadOracle()) {
    try {
      const r = inspectPayloadReport(corpusPath(o.path), { knowledgeBase, trust: microsoftTrust() });
      assert.equal(r.payload.metadataVerified, true, `${o.path}: ${r.payload.metadataReason}`);
      payloads.push(o.path);
    } catch (e) {
      assert.ok(e instanceof CabferryError && e.kind === 'input', `${o.path}: ${e instanceof Error ? e.stack : String(e)}`);
      refused.set(e.code, (refused.get(e.code) ?? 0) + 1);
    }
  }
  assert.deepEqual(payloads.sort(), [
    ...['x64', 'x86'].flatMap((a) => ['Windows6.0', 'Windows6.1', 'Windows8-RT', 'Windows8.1'].map((w) => `ms-signed/kb2999226-inner/${w}-KB2999226-${a}/${w}-KB2999226-${a}.cab`)),
    'msu/Windows6.1-KB2999226-x64.msu', 'msu/Windows6.1-KB3118401-x64.msu', 'msu/Windows8.1-KB917607-x64.msu', 'msu/Windows8.1-KB917607-x86.msu',
  ].sort());
  // cabinets that are fine but are not update payloads are refused as such, not as malformed
  assert.ok((refused.get('PKG_NOT_A_PAYLOAD') ?? 0) >= 140, JSON.stringify([...refused]));
});
