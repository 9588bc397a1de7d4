import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openCab } from '../../src/cab/cabinet';
import { CabferryError } from '../../src/errors';
import { parseContainerIndex } from '../../src/package/cix';
import { parseUnattend } from '../../src/package/unattend';
import { corpusMsu, kb2999226Inner } from './package.helpers';

function realMember(cabPath: string, pick: (name: string) => boolean): Buffer {
  const cab = openCab(cabPath);
  try {
    const member = cab.members.find((m) => pick(m.name));
    assert.ok(member);
    return cab.readMemberToBuffer(member, 1024 * 1024);
  } finally {
    cab.close();
  }
}

test('real unattend .xml of a Windows 8.1 MSU: identity and source cab', () => {
  const [pkg, ...rest] = parseUnattend(realMember(corpusMsu('Windows8.1-KB917607-x86.msu'), (n) => n.endsWith('.xml')));
  assert.equal(rest.length, 0);
  assert.equal(pkg.action, 'install');
  assert.deepEqual(pkg.identity, { name: 'Microsoft-Windows-Winhelp-Update-Client-TopLevel', version: '6.3.1.0', processorArchitecture: 'x86', language: 'neutral', publicKeyToken: '31bf3856ad364e35', buildType: 'release' });
  assert.equal(pkg.sourceLocation, '%configsetroot%\\Windows8.1-KB917607-x86.CAB');
  assert.equal(pkg.sourceFileName, 'Windows8.1-KB917607-x86.CAB');
});

test('real _manifest_.cix.xml: RAW and PA30 sources, basis-only files', () => {
  const cix = parseContainerIndex(realMember(kb2999226Inner('Windows6.0-KB2999226-x64'), (n) => n === '_manifest_.cix.xml'));
  assert.equal(cix.name, 'kb2999226.cab');
  assert.equal(cix.files.length, 222);
  const kinds = { RAW: 0, PA30: 0, none: 0 };
  for (const f of cix.files) kinds[(f.source?.type as 'RAW' | 'PA30' | undefined) ?? 'none']++;
  assert.deepEqual(kinds, { RAW: 50, PA30: 86, none: 86 });
  const ucrt = cix.files.find((f) => f.id === '383');
  assert.ok(ucrt);
  assert.equal(ucrt.name, 'x86_microsoft-windows-ucrt_31bf3856ad364e35_6.0.6002.19488_none_ad5920a116dfee9e\\ucrtbase.dll');
  assert.deepEqual(ucrt.source, { type: 'PA30', member: '8', hash: { algorithm: 'sha1', hex: '446db866bb8d29d7f1451af5867fa298ae17cfc7' } });
});

test('Windows 8.1 container indexes use SHA-256', () => {
  const cix = parseContainerIndex(realMember(kb2999226Inner('Windows8.1-KB2999226-x86'), (n) => n === '_manifest_.cix.xml'));
  assert.ok(cix.files.every((f) => f.hash?.algorithm === 'sha256'));
});

test('broken container indexes', () => {
  const code = (c: string) => (e: unknown) => e instanceof CabferryError && e.code === c;
  assert.throws(() => parseContainerIndex(Buffer.from('<Files/>')), code('CIX_BAD_ROOT'));
  assert.throws(() => parseContainerIndex(Buffer.from('<Container><Files><File id="1" name="a"/></Files></Container>')), code('CIX_BAD_FILE'));
  assert.throws(() => parseContainerIndex(Buffer.from('<Container><Files><File id="1" name="a" length="1"><Hash alg="MD5" value="00"/></File></Files></Container>')), code('CIX_BAD_HASH'));
  assert.throws(() => parseContainerIndex(Buffer.from('<Container><Files><File id="1" name="a" length="1"><Hash alg="SHA1" value="zz"/></File></Files></Container>')), code('CIX_BAD_HASH'));
});
