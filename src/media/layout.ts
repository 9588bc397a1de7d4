import { HASH_SELFTEST_CONTENT, HASH_SELFTEST_PATH, RESULTS_DIR, SHA256_VBS_PATH, sha256VbsScript } from './install-script';

/**
 * What a staged medium holds (paths relative to its root, always with "/"):
 *
 *   manifest.json          every file below with size and SHA-256; written last
 *   manifest.json.p7s      detached PKCS#7 signature of manifest.json (with --sign-key/--sign-cert)
 *   SHA256SUMS             the same hashes for `sha256sum -c`
 *   README.txt             for the person at the far end
 *   index.html             the evidence pack: plans, payload signatures, manifest signer (printable)
 *   collect.cmd            writes a host inventory (from the planner)
 *   payloads/FILE          each payload once, whatever the number of hosts needing it
 *   tools/…                the fallback hasher and its self-test input
 *   hosts/NAME/install.cmd, plan.json, plan.txt
 *   results/NAME/…         written by install.cmd on the far side; not part of the manifest
 */
export const MEDIA = {
  manifest: 'manifest.json',
  signature: 'manifest.json.p7s',
  sums: 'SHA256SUMS',
  readme: 'README.txt',
  evidencePack: 'index.html',
  collect: 'collect.cmd',
  payloads: 'payloads',
  tools: 'tools',
  hosts: 'hosts',
  results: RESULTS_DIR,
} as const;

/** Files outside the manifest: the manifest itself, its signature, and what the hosts write back. */
export function isOutsideManifest(relPath: string): boolean {
  return relPath === MEDIA.manifest || relPath === MEDIA.signature || relPath === MEDIA.results || relPath.startsWith(`${MEDIA.results}/`);
}

/** The helper files install.cmd needs besides the payloads. */
export function mediaToolFiles(): { path: string; content: Buffer }[] {
  return [
    { path: SHA256_VBS_PATH, content: Buffer.from(sha256VbsScript(), 'ascii') },
    { path: HASH_SELFTEST_PATH, content: Buffer.from(HASH_SELFTEST_CONTENT, 'ascii') },
  ];
}
