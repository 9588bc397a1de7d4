import { knownOnlyTo, type KbFamily, type KnowledgeBase } from '../knowledge/knowledge-base';
import { factClaim, filesListing } from './inventory/host-facts';
import type { FactClaim, HostInventory, InventoryConflict } from './types';

/**
 * A product the inventory names against the NT version it reports (or that its installed updates
 * imply): "Windows Server 2008 R2" at 6.0.6002. The knowledge base's family lists the products of
 * its NT version; a product it does not list there is a contradiction between two facts of one
 * inventory, as much as two files disagreeing, and the plan says so. Without it every payload is
 * skipped as another product's and nothing of the baseline applies: "complete, nothing to install".
 * Product names are read into the knowledge base's names (normaliseProduct, any language); a name
 * it does not recognise is no product (null: "product not reported"), never a contradiction.
 */
export function productConflict(host: HostInventory, kb: KnowledgeBase, family: KbFamily): InventoryConflict | null {
  const product = host.product;
  if (product === null || family.products.includes(product)) return null;
  const said = factClaim(host.evidence, 'product', product);
  let version: FactClaim;
  if (host.ntVersion !== null) {
    version = factClaim(host.evidence, 'ntVersion', host.ntVersion);
  } else {
    // the family was inferred from installed updates that only it knows (resolveFamily)
    const witness = host.installed.find((k) => knownOnlyTo(kb, family, k)) ?? host.installed[0] ?? '';
    version = { claim: { kind: 'installed', kb: witness, implies: { fact: 'ntVersion', value: family.ntVersion } }, files: [...filesListing(host.evidence)(witness)] };
  }
  return { fact: 'product', claims: [said, version] };
}
