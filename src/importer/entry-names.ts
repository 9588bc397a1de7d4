/**
 * Zip entry names come from whoever made the bundle. The importer never writes an entry at
 * its name (blobs are content-addressed), but a name that tries to climb out of the bundle
 * says the bundle is hostile or broken, so such entries are refused one by one — the same
 * rules yauzl applies, decided here per entry instead of aborting the whole bundle.
 */
export function unsafeEntryNameReason(name: string): string | null {
  if (name === '') return 'empty entry name';
  if (name.includes('\0')) return 'entry name contains a NUL byte';
  const slashed = name.replace(/\\/g, '/');
  if (slashed.startsWith('/')) return `absolute entry name ${JSON.stringify(name)}`;
  if (/^[a-zA-Z]:/.test(slashed)) return `entry name with a drive letter ${JSON.stringify(name)}`;
  if (slashed.split('/').includes('..')) return `entry name climbs out of the bundle (..): ${JSON.stringify(name)}`;
  return null;
}
