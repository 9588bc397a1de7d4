import type { Distrust } from '../catalog/distrust';
import type { KbFamily, KbUpdateFact } from '../knowledge/knowledge-base';
import { mediaFileNameList } from '../knowledge/file-names';
import type { Payload } from '../package/types';
import type { CatalogCurrency } from './causes';
import { catalogCurrency, highestKb, knowledgeBaseline } from './completeness';
import { servicingStackVersions, type StackVersion } from './host-state';
import { RequirementTable } from './resolve';
import { setInstallOrder } from './schedule';
import { applicableTo, type Applicable } from './select';
import type { HostInventory, PlanGoal } from './types';

/**
 * What planning a host of one family depends on besides the host itself: the catalog's payloads
 * of the family and what follows from them and the knowledge base alone. A Planner works each
 * out once per run, when the first host that needs it comes, and every later host shares it.
 * Nothing here may depend on a host's installed set: that is what makes the sharing exact.
 */
export class FamilyWork {
  /** the static requirements of each candidate */
  readonly requirements: RequirementTable;
  /** each payload's name on media, by its place in `payloads` */
  readonly mediaNames: readonly string[];
  private catalogKbsMemo: Set<string> | null = null;
  private knownKbsMemo: Set<string> | null = null;
  private highestKnownKbMemo: { kb: string | null; n: number } | null = null;
  private readonly applicable = new Map<HostInventory['architecture'], Map<string | null, Applicable>>();
  private readonly currencies = new Map<HostInventory['architecture'], Map<string | null, CatalogCurrency>>();
  private readonly stackVersions = new Map<HostInventory['architecture'], Map<string, StackVersion>>();
  private readonly baselines = new Map<string | null, KbUpdateFact[]>();

  /**
   * `payloads`: the catalog's payloads of this family's NT version, in catalog order;
   * `distrusted`: those of them that do not chain now to an anchor the caller trusts
   */
  constructor(
    readonly family: KbFamily,
    readonly payloads: readonly Payload[],
    private readonly goal: PlanGoal,
    private readonly distrusted: ReadonlyMap<string, Distrust>,
  ) {
    this.requirements = new RequirementTable(family);
    this.mediaNames = mediaFileNameList(payloads, () => family);
  }

  /** the KBs of the catalog's payloads of the family (made for the first host that has an installed KB the knowledge base does not know) */
  get catalogKbs(): ReadonlySet<string> {
    if (this.catalogKbsMemo === null) {
      this.catalogKbsMemo = new Set();
      for (const p of this.payloads) this.catalogKbsMemo.add(p.kb);
    }
    return this.catalogKbsMemo;
  }

  /**
   * the KBs the knowledge base or the catalog knows for the family (made for the first host with an
   * installed KB): one look-up for each of a host's hundreds of installed KBs, not one in each
   */
  get knownKbs(): ReadonlySet<string> {
    if (this.knownKbsMemo === null) this.knownKbsMemo = new Set([...this.family.updates.keys(), ...this.catalogKbs]);
    return this.knownKbsMemo;
  }

  /** the highest KB number the knowledge base or the catalog knows for the family (n 0 if none); the first of that number, the knowledge base's before the catalog's */
  get highestKnownKb(): { kb: string | null; n: number } {
    if (this.highestKnownKbMemo === null) {
      const known = highestKb(this.family.updates.keys());
      const inCatalog = highestKb(this.catalogKbs);
      this.highestKnownKbMemo = inCatalog.n > known.n ? inCatalog : known;
    }
    return this.highestKnownKbMemo;
  }

  /** The payloads that apply to a host of this architecture and product, before its installed set counts. */
  applicableTo(host: Pick<HostInventory, 'architecture' | 'product'>): Applicable {
    let byProduct = this.applicable.get(host.architecture);
    if (!byProduct) this.applicable.set(host.architecture, (byProduct = new Map()));
    let a = byProduct.get(host.product);
    if (!a) {
      a = applicableTo(host, this.payloads, this.family, this.mediaNames, this.distrusted);
      setInstallOrder(a.candidates.map((x) => x.c));
      byProduct.set(host.product, a);
    }
    return a;
  }

  /**
   * How current the catalog is for a host of this architecture and product (each plan gets its own
   * copy): of the payloads that apply to it (applicableTo), so neither another architecture's rollup
   * nor an untrusted one makes the catalog current for it.
   */
  currencyFor(host: Pick<HostInventory, 'architecture' | 'product'>): CatalogCurrency {
    let byProduct = this.currencies.get(host.architecture);
    if (!byProduct) this.currencies.set(host.architecture, (byProduct = new Map()));
    let c = byProduct.get(host.product);
    if (!c) byProduct.set(host.product, (c = catalogCurrency(this.family, host.product, this.applicableTo(host))));
    return c;
  }

  /** The servicing stack version each SSU brings, for a host of this architecture. */
  servicingStackVersions(architecture: HostInventory['architecture']): Map<string, StackVersion> {
    let v = this.stackVersions.get(architecture);
    if (!v) this.stackVersions.set(architecture, (v = servicingStackVersions(architecture, this.payloads, this.family)));
    return v;
  }

  /** The knowledge base's baseline of a current host of this product, for the run's goal. */
  knowledgeBaseline(product: string | null): KbUpdateFact[] {
    let b = this.baselines.get(product);
    if (!b) this.baselines.set(product, (b = knowledgeBaseline(this.family, product, this.goal)));
    return b;
  }
}
