import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { fixturePath, runCli, tempDir } from '../common.helpers';

/** Issue 17, item 7: system and OpenSSL failures reach the user in our words, with a code. */

const RAW = /ENOENT|EEXIST|EACCES|DECODER routines|error:[0-9A-F]{8}|truncated DER header|at signature offset/;

test('an empty trust file, a non-certificate and a missing one: our words and codes, not errno or DER parser text', () => {
  const dir = tempDir();
  const empty = path.join(dir, 'empty.pem');
  fs.writeFileSync(empty, '');
  const text = path.join(dir, 'notes.crt');
  fs.writeFileSync(text, 'this is not a certificate at all');
  const cases: [string, string, RegExp][] = [
    [empty, 'TRUST_EMPTY', /the trust anchor file is empty/],
    [text, 'TRUST_NOT_A_CERTIFICATE', /not a certificate: neither PEM text nor a DER X\.509 certificate/],
    [path.join(dir, 'missing.pem'), 'TRUST_UNREADABLE', /no such file or folder/],
  ];
  for (const [file, code, words] of cases) {
    const r = runCli(['verify', '--trust', file, fixturePath('payloads', 'Windows6.0-KB4493730-x64.msu')]);
    assert.equal(r.status, 3, `${file}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`${words.source}.*\\[${code}\\]`), file);
    assert.doesNotMatch(r.stderr.replace(/\(ENOENT\)/, ''), RAW, file);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
});

test('trust add of a leaf certificate is accepted with a warning that it is not a CA; a root gets none', () => {
  const cat = path.join(tempDir(), 'cat');
  const leaf = runCli(['trust', 'add', '--catalog', cat, fixturePath('pki', 'leaf-rsa.pem')]);
  assert.equal(leaf.status, 0, leaf.stderr);
  assert.match(leaf.stderr, /^cabferry: warning: .* is not a CA certificate/m);
  const root = runCli(['trust', 'add', '--catalog', cat, fixturePath('pki', 'root.pem')]);
  assert.equal(root.status, 0);
  assert.equal(root.stderr, '');
});

test('import of a missing path names the file in our words, exit 3', () => {
  const r = runCli(['import', '--catalog', path.join(tempDir(), 'cat'), '--trust', fixturePath('pki', 'root.pem'), '/nonexistent/update.msu']);
  assert.equal(r.status, 3);
  assert.match(r.stderr, /^cabferry: \/nonexistent\/update\.msu: cannot read: no such file or folder \(ENOENT\) \[SOURCE_UNREADABLE\]/);
});
