/**
 * Seeded mutations of real metadata (update.mum, pkgProperties.txt, _manifest_.cix.xml, the
 * update.cat CTL): every parser either returns or throws a typed input error — never a
 * TypeError, RangeError or hang. Deterministic (fixed seed) so a failure reproduces.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSignedData } from '../../src/authenticode/signed-data';
import { raw } from '../../src/authenticode/der';
import { openCab } from '../../src/cab/cabinet';
import { CabferryError } from '../../src/errors';
import { parseContainerIndex } from '../../src/package/cix';
import { parseCatalogContent } from '../../src/package/ctl';
import { parsePackageManifest } from '../../src/package/mum';
import { parsePkgProperties } from '../../src/package/pkg-properties';
import { prng } from '../../scripts/lib/prng';
import { corpusMsu, kb2999226Inner } from './package.helpers';

/** Flip, overwrite, delete, duplicate or truncate a few bytes. */
function mutate(data: Buffer, rand: () => number): Buffer {
  let out = Buffer.from(data);
  const edits = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < edits && out.length > 0; i++) {
    const at = Math.floor(rand() * out.length);
    switch (Math.floor(rand() * 5)) {
      case 0: out[at] ^= 1 << Math.floor(rand() * 8); break;
      case 1: out[at] = [0x00, 0x3c, 0x3e, 0x22, 0x26, 0xff, 0x80, 0x30][Math.floor(rand() * 8)]; break;
      case 2: out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1 + Math.floor(rand() * 16))]); break;
      case 3: out = Buffer.concat([out.subarray(0, at), out.subarray(at, at + 32), out.subarray(at)]); break;
      default: out = out.subarray(0, at); break;
    }
  }
  return out;
}

function member(cabPath: string, pick: (n: string) => boolean): Buffer {
  const cab = openCab(cabPath);
  try {
    return cab.readMemberToBuffer(cab.members.find((m) => pick(m.name))!, 1024 * 1024);
  } finally {
    cab.close();
  }
}

const vista = kb2999226Inner('Windows6.0-KB2999226-x64');
const cases: [string, Buffer, (b: Buffer) => unknown][] = [
  ['update.mum', member(vista, (n) => n === 'update.mum'), (b) => parsePackageManifest(b)],
  ['pkgProperties.txt', member(corpusMsu('Windows6.1-KB3118401-x64.msu'), (n) => n.endsWith('.txt')), (b) => parsePkgProperties(b)],
  ['_manifest_.cix.xml', member(kb2999226Inner('Windows8.1-KB2999226-x86'), (n) => n === '_manifest_.cix.xml'), (b) => parseContainerIndex(b)],
  ['update.cat CTL', raw(parseSignedData(member(kb2999226Inner('Windows8.1-KB2999226-x64'), (n) => n.startsWith('package_1_') && n.endsWith('.cat'))).content!), (b) => parseCatalogContent(b)],
];

for (const [name, original, parse] of cases) {
  test(`${name}: 400 seeded mutations end in a result or a typed input error`, () => {
    const rand = prng(0xcabf + name.length);
    let rejected = 0;
    for (let i = 0; i < 400; i++) {
      const input = mutate(original, rand);
      try {
        parse(input);
      } catch (e) {
        assert.ok(e instanceof CabferryError && e.kind === 'input', `mutation ${i}: ${e instanceof Error ? e.stack : String(e)}`);
        rejected++;
      }
    }
    assert.ok(rejected > 0, 'some mutations must be rejected, or the parser checks nothing');
  });
}
