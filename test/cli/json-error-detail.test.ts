import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertErrorDocument, fixturePath, runCli, tempDir } from '../common.helpers';

/**
 * #17 item 7, detail part: under --json a failure is one `{ "error": … }` document on stdout whose
 * `message` is our own wording and whose `detail` keeps the original errno, OpenSSL or parser text;
 * the one line on stderr stays our wording alone.
 */

const work = tempDir('cabferry-json-detail-');
const payload = fixturePath('payloads', 'Windows6.0-KB4493730-x64.msu');

interface ErrorJson { error: { code: string; kind: string; exitCode: number; message: string; file?: string; detail?: string } }

function failure(args: string[], status: number): { doc: ErrorJson; stderr: string } {
  const r = runCli(args);
  assert.equal(r.status, status, r.stdout + r.stderr);
  assert.equal(r.stderr.split('\n').filter((l) => l !== '').length, 1, r.stderr);
  assertErrorDocument(r.stdout, /^[A-Z][A-Z0-9_]+$/);
  return { doc: JSON.parse(r.stdout) as ErrorJson, stderr: r.stderr };
}

test('an errno failure under --json: our words in message, the system\'s ENOENT text in detail, stderr one line of ours', () => {
  const missing = path.join(work, 'no-such-folder', 'anchors.pem');
  const { doc, stderr } = failure(['verify', payload, '--trust', missing, '--json'], 3);
  assert.equal(doc.error.code, 'TRUST_UNREADABLE');
  assert.equal(doc.error.exitCode, 3);
  assert.equal(doc.error.file, missing);
  assert.equal(doc.error.message, 'cannot read trust anchors: no such file or folder (ENOENT)');
  assert.match(doc.error.detail ?? '', /^ENOENT: no such file or directory, stat '.*anchors\.pem'$/);
  assert.doesNotMatch(stderr, /no such file or directory/);
});

test('an OpenSSL failure under --json: the DECODER text is detail, never the message', () => {
  const catalog = path.join(work, 'catalog');
  assert.equal(runCli(['catalog', 'init', '--catalog', catalog]).status, 0);
  const key = path.join(work, 'broken.key');
  fs.writeFileSync(key, '-----BEGIN PRIVATE KEY-----\nMIIBAAAA\n-----END PRIVATE KEY-----\n');
  const { doc, stderr } = failure(['stage', '--catalog', catalog, '--host', fixturePath('hosts', 'srv-fresh-x64.systeminfo.txt'), '--to', path.join(work, 'media'),
    '--sign-key', key, '--sign-cert', fixturePath('pki', 'leaf-rsa-chain.pem'), '--json'], 2);
  assert.equal(doc.error.code, 'SIGN_KEY_UNREADABLE');
  assert.equal(doc.error.message, 'not a PEM private key that can be read');
  assert.match(doc.error.detail ?? '', /error:[0-9A-F]+:DECODER routines/);
  assert.doesNotMatch(stderr, /DECODER|error:[0-9A-F]{8}/);
  assert.match(stderr, /^cabferry: .*broken\.key: not a PEM private key that can be read \[SIGN_KEY_UNREADABLE\]/);
});

test('a trust file that is no certificate under --json: the DER parser\'s words are detail; an empty one has no detail to give', () => {
  const junk = path.join(work, 'junk.der');
  fs.writeFileSync(junk, Buffer.from([0x30, 0x28, 0x01, 0x02]));
  const { doc } = failure(['verify', payload, '--trust', junk, '--json'], 3);
  assert.equal(doc.error.code, 'TRUST_NOT_A_CERTIFICATE');
  assert.equal(doc.error.message, 'not a certificate: neither PEM text nor a DER X.509 certificate');
  assert.ok(doc.error.detail !== undefined && doc.error.detail !== doc.error.message && /DER|offset/.test(doc.error.detail), doc.error.detail);

  const empty = path.join(work, 'empty.pem');
  fs.writeFileSync(empty, '');
  const none = failure(['verify', payload, '--trust', empty, '--json'], 3).doc;
  assert.equal(none.error.code, 'TRUST_EMPTY');
  assert.equal('detail' in none.error, false);

  const plain = runCli(['verify', payload, '--trust', empty]);
  assert.equal(plain.status, 3);
  assert.equal(plain.stdout, '', 'without --json nothing reaches stdout');
});

test('a usage error commander finds under --json (unknown option, missing required option, missing argument): the same one line on stderr and an error document on stdout, exit 2', () => {
  const cases: [string[], string, string][] = [
    [['plan', '--host', 'h.txt', '--bogus', '--json'], 'USAGE_UNKNOWN_OPTION', 'cabferry plan --help'],
    [['stage', '--to', 'x', '--json'], 'USAGE_MISSING_OPTION', 'cabferry stage --help'],
    [['report', '--json'], 'USAGE_MISSING_ARGUMENT', 'cabferry report --help'],
    [['catalog', 'list', '--json', '--bogus'], 'USAGE_UNKNOWN_OPTION', 'cabferry catalog list --help'],
  ];
  for (const [args, code, help] of cases) {
    const { doc, stderr } = failure(args, 2);
    assert.equal(doc.error.code, code, args.join(' '));
    assert.equal(doc.error.kind, 'usage');
    assert.equal(doc.error.exitCode, 2);
    assert.doesNotMatch(doc.error.message, /^error:|\n/);
    assert.match(stderr, new RegExp(`^cabferry: ${doc.error.message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\[${code}\\]; see \`${help}\`\\n$`), args.join(' '));
  }
  // without --json (or with it only after the end of options) stdout stays empty
  for (const args of [['plan', '--host', 'h.txt', '--bogus'], ['report', '--', '--json', 'extra']]) {
    const r = runCli(args);
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
  }
});
