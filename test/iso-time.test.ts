import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { isoTime } from '../src/iso-time';
import { filesContaining, projectRoot } from './common.helpers';

test('isoTime writes what toISOString writes: every millisecond field, the edges of years 0–9999, and beyond them', () => {
  const times = [
    0, -1, 1, Date.UTC(2024, 2, 1, 12, 0, 5), Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(1969, 11, 31, 23, 59, 59, 999),
    Date.UTC(0, 0, 1) - 1, new Date('0000-01-01T00:00:00.000Z').getTime(), new Date('9999-12-31T23:59:59.999Z').getTime(),
    new Date('+010000-01-01T00:00:00.000Z').getTime(), new Date('-000001-06-15T10:20:30.040Z').getTime(), 8.64e15, -8.64e15,
  ];
  // and a spread across the years a certificate or a report can name, milliseconds included
  for (let t = Date.UTC(1950, 0, 1), k = 1; t < Date.UTC(2100, 0, 1); t += 86_400_000 * 97 + k * 3_601_013, k++) times.push(t);
  for (const t of times) assert.equal(isoTime(new Date(t)), new Date(t).toISOString(), String(t));
});

test('isoTime of an invalid date throws the RangeError toISOString throws', () => {
  assert.throws(() => isoTime(new Date(Number.NaN)), RangeError);
});

test("the program writes times only through isoTime (src/iso-time.ts says why)", () => {
  assert.deepEqual(filesContaining(path.join(projectRoot, 'src'), 'ts', '.toISOString(').filter((f) => f !== 'iso-time.ts'), []);
});
