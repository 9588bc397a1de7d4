import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fixturePath, runCli, tempDir } from '../common.helpers';

/**
 * Review 9 (h/review9), finding R9-6: the Windows version of an executable update whose KB the
 * knowledge base does not know comes from its file name alone, and the payload is still
 * "identity verified". Renaming the Vista/Server 2008 IE9 installer IE9-Windows6.0-x64-enu.exe to
 * IE9-Windows6.1-x64-enu.exe files the same signed bytes under Windows 7 / Server 2008 R2 (NT 6.1),
 * metadataVerified true, no note — though its signed version resource says OriginalFilename
 * "IE9-Windows6.0-x64-enu.exe" and "for Windows Vista and Windows Server 2008".
 *
 * src/package/executable.ts: ntVersion = the knowledge base's family for the KB, else the file
 * name's (ntVersionInExecutableName); decideIdentity vouches for the KB and the architecture, and
 * nothing for the Windows version. Its own header promises "a renamed installer of another release
 * does not pass". With KB948465 (known to the knowledge base as 6.0) the same rename is caught and
 * noted; with an unknown KB the name is believed.
 *
 * Expected: the same bytes are the same product whatever their name — either the Windows version
 * comes from something signed, or the payload is not "verified" on the name's word.
 */

describe('review9 R9-6: an executable update renamed to another Windows version', () => {
  const dir = tempDir('cabferry-review9-exe-');
  const original = fixturePath('executables', 'IE9-Windows6.0-x64-enu.exe');
  const renamed = path.join(dir, 'IE9-Windows6.1-x64-enu.exe');
  fs.copyFileSync(original, renamed);
  const root = fixturePath('pki', 'root.pem');

  type Seen = { ntVersion: string; products: string[]; metadataVerified: boolean; notes?: string[] };
  const inspect = (file: string): Seen => {
    const r = runCli(['inspect', file, '--trust', root, '--json']);
    const p = (JSON.parse(r.stdout) as { payloads: Seen[] }).payloads[0];
    return { ntVersion: p.ntVersion, products: p.products, metadataVerified: p.metadataVerified, ...(p.notes ? { notes: p.notes } : {}) };
  };

  it('is not a verified Windows 7 / Server 2008 R2 payload because of its name', () => {
    const asShipped = inspect(original);
    assert.equal(asShipped.ntVersion, '6.0', 'control: under its own name it is the NT 6.0 installer');
    const seen = inspect(renamed);
    // fails today: {"ntVersion":"6.1","products":["Windows Server 2008 R2","Windows 7"],"metadataVerified":true}
    assert.ok(seen.ntVersion === '6.0' || !seen.metadataVerified, JSON.stringify(seen));
  });

  it('import does not record it as a verified NT 6.1 payload', () => {
    const r = runCli(['import', renamed, '--trust', root, '--catalog', path.join(dir, 'catalog'), '--json']);
    const result = (JSON.parse(r.stdout) as { results: { outcome: string; kb: string | null }[] }).results[0];
    const listed = runCli(['catalog', 'list', '--catalog', path.join(dir, 'catalog'), '--json']);
    // fails today: imported, and listed under Windows Server 2008 R2 / Windows 7
    assert.ok(result.outcome !== 'imported' || !/2008 R2|Windows 7/.test(listed.stdout), `${JSON.stringify(result)} ${listed.stdout.slice(0, 400)}`);
  });
});
