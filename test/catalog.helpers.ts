import { openCatalog } from '../src/catalog/catalog';

/** The SHA-256 keys of every payload row, sorted: what "no row lost, none half-added" is compared by. */
export function catalogPayloadKeys(dir: string): string[] {
  const catalog = openCatalog({ dir, access: 'read' });
  try {
    return catalog.payloads().map((p) => p.sha256).sort();
  } finally {
    catalog.close();
  }
}
