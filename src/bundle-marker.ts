import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * What makes a folder or a zip a transfer bundle (`cabferry export`): its manifest, by name, at
 * its root. Here, below both the importer and transfer/, because both must recognise a bundle:
 * transfer/ to import one as a bundle (signature, all or nothing, records compared), the
 * importer's walk to refuse one it meets inside a folder or a plain zip instead of taking its
 * payloads one by one without any of that.
 *
 * Whatever stands under the manifest's name marks a bundle, a regular file or not (a folder, a
 * link): recognised, it goes to the bundle importer, which refuses what no bundle we write holds;
 * unrecognised, its payloads would be walked one by one, unchecked.
 */

/** The bundle manifest's file name (transfer/bundle-format.ts BUNDLE.manifest). */
export const BUNDLE_MANIFEST_NAME = 'cabferry-bundle.json';

/** Whether a name (one path segment) marks a bundle. */
export function isBundleMarkerName(name: string): boolean {
  return name === BUNDLE_MANIFEST_NAME;
}

/** A folder holding a bundle manifest (a file, or anything else under that name) at its root. */
export function isBundleFolder(dir: string): boolean {
  try {
    fs.lstatSync(path.join(dir, BUNDLE_MANIFEST_NAME));
    return true;
  } catch {
    return false;
  }
}

/**
 * Where a bundle's root is among the names of a zip's entries: '' for the zip itself, 'a/b' for a
 * bundle folder zipped inside it (an entry a/b/cabferry-bundle.json, "/" or "\\" separated, or
 * a/b/cabferry-bundle.json/… when a folder stands under the manifest's name); null when no entry
 * is, or is inside, a bundle manifest.
 */
export function bundleRootAmong(entryNames: Iterable<string>): string | null {
  let found: string | null = null;
  for (const name of entryNames) {
    const segments = name.split(/[\\/]/);
    const marker = segments.findIndex(isBundleMarkerName);
    if (marker < 0) continue;
    const root = segments.slice(0, marker).join('/');
    // the shallowest one: the zip itself before a bundle inside it
    if (found === null || root.length < found.length) found = root;
  }
  return found;
}
