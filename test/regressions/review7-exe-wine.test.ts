import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir } from '../common.helpers';
import { install, InstallCases } from '../media/install-cases.helpers';
import { HASH_SELFTEST_SHA256 } from '../../src/media/install-script';
import { WinePrefix, wineSkip as skip } from '../media/wine.helpers';

/**
 * Review 7 (h/review7): the service pack .exe path of install.cmd under Wine's cmd.
 *
 * The service packs are the biggest payloads a plan carries (Windows6.0-KB948465-X64.exe, all
 * languages, about 577 MB; windows6.1-KB976932-X64.exe about 903 MB). Where certutil cannot hash
 * SHA-256, install.cmd falls back to tools\sha256.vbs, which loads the whole file into an
 * ADODB.Stream and quits 1 without printing anything when that fails (install-script.ts
 * sha256VbsScript). Its self-test is 3 bytes ("abc"), so a hasher that passes it may still print no
 * digest for a 900 MB file. :hash_file sets CF_MATCH=0 both when the hasher printed another digest and
 * when it printed none, and :step_payload then says the payload "does NOT have the SHA-256 in the
 * plan" and logs hash-mismatch, which report explains as "the payload on the media does not have the
 * SHA-256 the plan names": a statement about the medium that nothing measured.
 */

let work = '';
let wine: WinePrefix;
let cases: InstallCases;

describe('review7: install.cmd .exe payloads under Wine cmd', { skip }, () => {
  before(() => {
    work = tempDir('cabferry-review7-exe-wine-');
    wine = new WinePrefix(work);
    wine.init();
    cases = new InstallCases(work, wine);
  });
  after(() => wine.close());

  test('review7 X1: a hasher that proved itself on the self-test but prints no digest for the service pack .exe is not reported as the payload\'s SHA-256 not matching (hash-mismatch)', () => {
    const sp2 = { ...install(1, 'KB948465', 'Windows6.0-KB948465-x64.exe'), switches: ['/unattend', '/nodialog', '/warnrestart:600'], cancelsOwnRestart: true as const };
    // (the host is Wine's, at build 6002: the hash check comes before any installer and does not depend on it)
    const c = cases.make([sp2]);
    assert.equal(c.host.build, 6002);
    // the hasher answers the self-test, and prints nothing for the payload (as sha256.vbs does when
    // ADODB.Stream cannot load the file)
    fs.writeFileSync(path.join(c.stubs.dir, 'hashes.txt'), `sha256-selftest.txt ${HASH_SELFTEST_SHA256}\r\n`);
    const r = c.run([], wine.boot(1));
    assert.match(r.stdout, /checking the SHA-256 of Windows6.0-KB948465-x64.exe/, r.stdout);
    // held: the installer did not run, and the run is not complete (as today)
    assert.deepEqual(c.stubs.installed(), [], r.stdout);
    assert.notEqual(c.log().ends.at(-1)?.status, 'complete', r.stdout);
    // fails today: "[1/1] Windows6.0-KB948465-x64.exe does NOT have the SHA-256 in the plan - not installed.
    // Re-check the media with cabferry verify-media.", meaning hash-mismatch; no digest was computed
    assert.doesNotMatch(r.stdout, /does NOT have the SHA-256 in the plan/, r.stdout);
    assert.notDeepEqual(c.log().results.map((x) => x.meaning), ['hash-mismatch'], r.stdout);
  });
});
