import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fixturePath, tempDir } from '../common.helpers';
import { loadTrustAnchors } from '../../src/authenticode/trust';
import { writeMedia } from '../../src/media/stage';
import type { HostInventory, HostPlan, PlanStep } from '../../src/planner/types';

/**
 * A medium as `stage` writes it for one Server 2008 SP2 host, SRV-A, with a complete plan of the
 * given steps, signed with the test PKI (fixtures/pki): what report reads back. `steps` is given
 * `add`, which puts a payload's bytes in the blob store and returns their SHA-256 for the step.
 */
export function signedMedium(name: string, steps: (add: (bytes: Buffer) => string) => PlanStep[]): { to: string; id: string } {
  const dir = tempDir(`cabferry-${name}-`);
  const blobs = path.join(dir, 'blobs');
  const blobPath = (sha: string) => path.join(blobs, 'blobs', sha.slice(0, 2), sha.slice(2));
  const add = (bytes: Buffer): string => {
    const sha = createHash('sha256').update(bytes).digest('hex');
    fs.mkdirSync(path.dirname(blobPath(sha)), { recursive: true });
    fs.writeFileSync(blobPath(sha), bytes);
    return sha;
  };
  const plan: HostPlan = { host: 'SRV-A', files: [], complete: true, incomplete: [], catalogCurrency: null, steps: steps(add), missing: [], skipped: [], assumptions: [] };
  const to = path.join(dir, 'media');
  writeMedia({
    to, hosts: [{ inventory: srvA(), plan }], blobPath, catalog: blobs, allowIncomplete: false, collectCmd: '@echo off\r\n', now: new Date('2026-11-23T10:00:00Z'),
    signing: { keyPem: fs.readFileSync(fixturePath('pki', 'leaf-rsa.key'), 'utf8'), certPem: fs.readFileSync(fixturePath('pki', 'leaf-rsa-chain.pem'), 'utf8') },
  });
  const id = (JSON.parse(fs.readFileSync(path.join(to, 'hosts', 'SRV-A', 'plan.json'), 'utf8')) as { planId: string }).planId;
  return { to, id };
}

/** the trust report needs to check signedMedium's signature: the test root */
export const mediumTrust = () => ({ trust: loadTrustAnchors([fixturePath('pki', 'root.pem')]) });

function srvA(): HostInventory {
  return {
    name: 'SRV-A', product: 'Windows Server 2008', ntVersion: '6.0', build: 6002, revision: null, architecture: 'amd64', servicePack: 2,
    installed: [], servicingStackVersion: null, sha2CodeSigning: false, pendingReboot: false, sources: ['profile'], unknown: [], sections: { hotfixes: true }, esuLicence: null, files: [], evidence: [], conflicts: [],
  };
}
