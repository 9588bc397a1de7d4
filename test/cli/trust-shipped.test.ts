import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { corpusPath, runCli, tempDir } from '../common.helpers';

test('trust add --microsoft-roots trusts exactly the shipped roots, and real MSUs then import without --trust', () => {
  const catalog = tempDir();
  const add = runCli(['trust', 'add', '--microsoft-roots', '--catalog', catalog, '--json']);
  assert.equal(add.status, 0, add.stderr);
  const listed = JSON.parse(runCli(['trust', 'list', '--catalog', catalog, '--json']).stdout) as { anchors: { fingerprint: string }[] };
  // the shipped bundle is the corpus's Microsoft set, certificate for certificate
  const corpusFingerprints = fs
    .readdirSync(corpusPath('trust-anchors', 'microsoft'))
    .map((f) => new crypto.X509Certificate(fs.readFileSync(corpusPath('trust-anchors', 'microsoft', f))).fingerprint256.replace(/:/g, '').toLowerCase())
    .sort();
  assert.deepEqual(listed.anchors.map((a) => a.fingerprint).sort(), corpusFingerprints);

  const imported = runCli(['import', corpusPath('msu'), '--catalog', catalog, '--json']);
  assert.equal(imported.status, 0, imported.stderr);
  assert.equal((JSON.parse(imported.stdout) as { imported: number }).imported, 4);
});

test('trust add with nothing to add is a usage error', () => {
  const r = runCli(['trust', 'add', '--catalog', tempDir()]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--microsoft-roots/);
});
