import fs = require('node:fs');

/**
 * What makes a folder or a zip a transfer bundle (`cabferry export`): its manifest, by name, at
 * its root. Here, below both the importer and transfer/, because both must recognise a bundle:
 * transfer/ to import one as a bundle (signature, all or nothing, records compared), the
 * importer's walk to refuse one it meets inside a folder or a plain zip instead of taking its
 * payloads one by one without any of that.
 *
 * Whatever stands under the manifest's name marks a bundle, a regular file or not (a folder, a
 * link), and in any letter case: FAT32 sticks, Windows copies and zip tools change a name's case
 * (CABFERRY-BUNDLE.JSON). Recognised, it goes to the bundle importer, which refuses what no bundle
 * we write holds (another case included: BUNDLE_MANIFEST_NAME_CASE); unrecognised, its payloads
 * would be walked one by one, unchecked.
 */

/** The bundle manifest's file name (transfer/bundle-format.ts BUNDLE.manifest). */
export const BUNDLE_MANIFEST_NAME = 'cabferry-bundle.json';

const MARKER_UPPER_CASE = BUNDLE_MANIFEST_NAME.toUpperCase();

/**
 * Whether a name (one path segment) marks a bundle: the manifest's name in any letter case,
 * compared upper-cased as Windows file systems compare names (JavaScript's full case mapping
 * matches a few more odd spellings, which only means refusing rather than walking them).
 */
export function isBundleMarkerName(name: string): boolean {
  return name.toUpperCase() === MARKER_UPPER_CASE;
}

/**
 * The names in a folder's listing that mark a bundle, as they are spelled there (the listing, not
 * a look-up of the exact name: on a case-sensitive file system that finds no CABFERRY-BUNDLE.JSON,
 * and on a case-insensitive one it would not tell which spelling is there). Throws when the
 * folder cannot be listed.
 */
export function bundleMarkersIn(dir: string): string[] {
  return fs.readdirSync(dir).filter(isBundleMarkerName);
}

/** A folder holding a bundle manifest (a file, or anything else under that name, in any case) at its root. */
export function isBundleFolder(dir: string): boolean {
  try {
    return bundleMarkersIn(dir).length > 0;
  } catch {
    return false; // not a listable folder: whoever reads it next reports why
  }
}

/**
 * Where a bundle's root is among the names of a zip's entries, and how its manifest is spelled
 * there (markerSpelling): root '' for the zip itself, 'a/b' for a bundle folder zipped inside it
 * (an entry a/b/cabferry-bundle.json in any letter case, "/" or "\\" separated, or
 * a/b/cabferry-bundle.json/… when a folder stands under the manifest's name); null when no entry
 * is, or is inside, a bundle manifest.
 */
export function bundleAmong(entryNames: Iterable<string>): { root: string; marker: string } | null {
  let root: string | null = null;
  let spellings: string[] = [];
  for (const name of entryNames) {
    const segments = name.split(/[\\/]/);
    const marker = segments.findIndex(isBundleMarkerName);
    if (marker < 0) continue;
    const at = segments.slice(0, marker).join('/');
    // the shallowest one: the zip itself before a bundle inside it
    if (root === null || at.length < root.length) {
      root = at;
      spellings = [segments[marker]!];
    } else if (at === root) spellings.push(segments[marker]!);
  }
  return root === null ? null : { root, marker: markerSpelling(spellings) };
}

const BUNDLE_LAYOUT = new RegExp(`(^|/)(payloads/[0-9a-f]{64}/[^/]+|records/[0-9a-f]{64}\\.json|${BUNDLE_MANIFEST_NAME.replace(/\./g, '\\.')}\\.p7s)$`, 'i');

/**
 * Whether a zip entry's name is laid out as one of a bundle's files (transfer/bundle-format.ts):
 * payloads/SHA256/FILE, records/SHA256.json or the manifest's signature, at the zip's root or in a
 * folder, in any letter case. Only for a zip whose directory cannot be read to its end: the
 * manifest, written last, may stand beyond the damage, and these names are what is left to tell a
 * damaged bundle from a damaged plain zip.
 */
export function isBundleLayoutName(name: string): boolean {
  return BUNDLE_LAYOUT.test(name.replace(/\\/g, '/'));
}

/** bundleAmong's root alone. */
export function bundleRootAmong(entryNames: Iterable<string>): string | null {
  return bundleAmong(entryNames)?.root ?? null;
}

/**
 * How the manifest's name is spelled among `names` (the markers of one bundle root): the exact
 * name when it is there (the bundle importer then accepts it), otherwise the first other spelling.
 * What a message tells the operator to rename, before sending them to the bundle importer.
 */
export function markerSpelling(names: readonly string[]): string {
  return names.includes(BUNDLE_MANIFEST_NAME) ? BUNDLE_MANIFEST_NAME : names[0] ?? BUNDLE_MANIFEST_NAME;
}
