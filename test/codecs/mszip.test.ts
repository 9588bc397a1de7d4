import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { createMszipDecoder } from '../../src/codecs/mszip';
import { mszipFolderEncoder } from '../../scripts/lib/cab-writer';
import { assertThrowsCode } from '../common.helpers';

/** Text-like data with long-range repeats, so later blocks really do reference earlier ones. */
function sampleStream(size: number): Buffer {
  const words = ['servicing', 'stack', 'rollup', 'KB4474419', 'sha2', 'update.mum', 'component', 'x86_microsoft-windows'];
  const out = Buffer.alloc(size);
  let seed = 7;
  for (let i = 0; i < size; ) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const w = Buffer.from(`${words[seed % words.length]} `);
    w.copy(out, i);
    i += w.length;
  }
  return out;
}

function frames(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += 32768) out.push(data.subarray(i, i + 32768));
  return out;
}

function decodeAll(payloads: Buffer[], sizes: number[]): Buffer {
  const d = createMszipDecoder();
  return Buffer.concat(payloads.map((p, i) => Buffer.from(d.decodeBlock(p, sizes[i]!))));
}


test('MSZIP blocks that need the previous 32 KiB as dictionary decode exactly', () => {
  const data = sampleStream(5 * 32768 + 1234);
  const fr = frames(data);
  const payloads = mszipFolderEncoder({ withHistory: true }).encodeFolder(fr);
  // The fixture really exercises history: some later block fails to inflate on its own.
  const needsHistory = payloads.slice(1).filter((p) => {
    try {
      return zlib.inflateRawSync(p.subarray(2)).length === 0;
    } catch {
      return true;
    }
  });
  assert.ok(needsHistory.length > 0, 'encoder produced no block that references history');
  assert.deepEqual(decodeAll(payloads, fr.map((f) => f.length)), data);
});

test('independent MSZIP blocks (as gcab writes them) decode too', () => {
  const data = sampleStream(3 * 32768 + 10);
  const fr = frames(data);
  assert.deepEqual(decodeAll(mszipFolderEncoder({ withHistory: false }).encodeFolder(fr), fr.map((f) => f.length)), data);
});

test('history is per decoder: a fresh decoder cannot decode a dependent block', () => {
  const data = sampleStream(2 * 32768);
  const fr = frames(data);
  const payloads = mszipFolderEncoder({ withHistory: true }).encodeFolder(fr);
  const fresh = createMszipDecoder();
  assertThrowsCode(() => fresh.decodeBlock(payloads[1]!, 32768), ['MSZIP_BAD_DATA', 'MSZIP_SIZE_MISMATCH'], 'input');
});

test('the history window keeps the last 32 KiB across a short block', () => {
  // block sizes 32768, 100, 32768: the third references bytes from both earlier blocks
  const a = sampleStream(32768);
  const b = Buffer.from('x'.repeat(100));
  const c = Buffer.concat([a.subarray(200, 32768 - 100 + 200), b]).subarray(0, 32768);
  const history = Buffer.concat([a, b]).subarray(-32768);
  const payloads = [
    Buffer.concat([Buffer.from('CK'), zlib.deflateRawSync(a)]),
    Buffer.concat([Buffer.from('CK'), zlib.deflateRawSync(b, { dictionary: a })]),
    Buffer.concat([Buffer.from('CK'), zlib.deflateRawSync(c, { dictionary: history })]),
  ];
  assert.deepEqual(decodeAll(payloads, [32768, 100, c.length]), Buffer.concat([a, b, c]));
});

test('MSZIP rejects a missing CK signature, truncated data, size mismatch and oversized output', () => {
  const block = Buffer.concat([Buffer.from('CK'), zlib.deflateRawSync(Buffer.alloc(1000, 0x41))]);
  assertThrowsCode(() => createMszipDecoder().decodeBlock(Buffer.concat([Buffer.from('XK'), block.subarray(2)]), 1000), 'MSZIP_BAD_SIGNATURE', 'input');
  assertThrowsCode(() => createMszipDecoder().decodeBlock(block.subarray(0, block.length - 3), 1000), 'MSZIP_BAD_DATA', 'input');
  assertThrowsCode(() => createMszipDecoder().decodeBlock(block, 999), 'MSZIP_SIZE_MISMATCH', 'input');
  // a bomb: a tiny payload inflating past the 32 KiB a block may produce
  const bomb = Buffer.concat([Buffer.from('CK'), zlib.deflateRawSync(Buffer.alloc(10 * 32768))]);
  assert.ok(bomb.length < 1000);
  assertThrowsCode(() => createMszipDecoder().decodeBlock(bomb, 32768), 'MSZIP_BAD_DATA', 'input');
});
