import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createNoneDecoder } from '../../src/codecs/none';
import { createBlockDecoder, describeCompression } from '../../src/codecs';
import { CabferryError } from '../../src/errors';

test('stored blocks pass through and must match the declared size', () => {
  const d = createNoneDecoder();
  assert.deepEqual(d.decodeBlock(Buffer.from('abc'), 3), Buffer.from('abc'));
  assert.throws(() => d.decodeBlock(Buffer.from('abc'), 4), (e: unknown) => e instanceof CabferryError && e.code === 'NONE_SIZE_MISMATCH');
});

test('typeCompress values map to methods and labels', () => {
  assert.equal(describeCompression(0x0000).label, 'none');
  assert.equal(describeCompression(0x0001).label, 'mszip');
  assert.deepEqual(describeCompression(0x1503), { type: 'lzx', raw: 0x1503, windowBits: 21, label: 'lzx:21' });
  assert.equal(describeCompression(0x1203).label, 'lzx:18');
  assert.deepEqual(describeCompression(0x1222), { type: 'quantum', raw: 0x1222, level: 2, windowBits: 18, label: 'quantum:2:18' });
  assert.equal(describeCompression(0x000f).label, 'unknown:0x000f');
});

test('the decoder factory refuses unknown methods and bad LZX or Quantum windows with input errors', () => {
  const code = (raw: number) => {
    try {
      createBlockDecoder(describeCompression(raw));
      return 'created';
    } catch (e) {
      assert.ok(e instanceof CabferryError && e.kind === 'input');
      return `${e.code}: ${e.message}`;
    }
  };
  assert.equal(code(0x1222), 'created');
  assert.match(code(0x0922), /^QUANTUM_BAD_WINDOW/);
  assert.match(code(0x1622), /^QUANTUM_BAD_WINDOW/);
  assert.match(code(0x0007), /^UNSUPPORTED_COMPRESSION: .*0x0007/);
  assert.match(code(0x0e03), /^LZX_BAD_WINDOW/);
  assert.match(code(0x1603), /^LZX_BAD_WINDOW/);
  assert.equal(code(0x0f03), 'created');
  assert.equal(code(0x1503), 'created');
});
