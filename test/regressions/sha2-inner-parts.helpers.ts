import { buildMsu } from '../../scripts/lib/msu-builder';
import { payloadDefinitions } from '../../scripts/lib/msu-builder-fixtures';
import { fixturePki } from './review9.helpers';

/**
 * fixtures/payloads/Windows6.0-KB4493471-x64.msu (the April 2019 rollup, dual-signed) rebuilt with
 * its catalogs signed with SHA-256 only, in `dir`: the .msu and its inner cabinets keep their SHA-1
 * signatures, so the file's own summary says "dual".
 */
export function rollupWithSha256Catalogs(dir: string): string {
  const def = { ...payloadDefinitions.find((d) => d.kb === 4493471)!, arch: 'x64' as const };
  return buildMsu(def, fixturePki(), dir, { catalogDigest: 'sha256' }).file;
}
