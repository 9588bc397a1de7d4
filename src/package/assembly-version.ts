/**
 * Versions as Windows servicing writes them (assemblyIdentity@version, the servicing stack's
 * file version): four dotted decimal fields, compared field by field as numbers.
 */
export function compareDottedVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The highest of `versions` (dotted versions), or null when there are none. */
export function highestDottedVersion(versions: readonly string[]): string | null {
  let highest: string | null = null;
  for (const v of versions) if (highest === null || compareDottedVersions(v, highest) > 0) highest = v;
  return highest;
}

export function isDottedVersion(text: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(text);
}
