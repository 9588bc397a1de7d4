import type { PayloadKind } from '../package/types';

/**
 * Which update replaces which: the one rule, and an index that answers it for a set of KBs.
 *
 *  - within a chain (servicing stack updates; monthly rollups with their previews) the later
 *    member replaces the earlier: by release date when both are dated, else by KB number
 *    (Microsoft numbers KB articles in sequence; an update the knowledge base does not date is
 *    placed that way);
 *  - a monthly rollup (or preview) carries the security fixes of its month and every earlier
 *    one: it replaces a security-only update of the same month or earlier (undated: by KB number,
 *    which errs on the safe side — a month's security-only update is numbered after its rollup);
 *  - and what the knowledge base states explicitly ("supersedes").
 */

export type Chain = 'ssu' | 'rollup';

export const CHAIN_OF_ROLE: Partial<Record<PayloadKind, Chain>> = {
  'servicing-stack': 'ssu',
  'monthly-rollup': 'rollup',
  'rollup-preview': 'rollup',
};

/** "KB4520002" → 4520002. */
export function kbNumber(kb: string): number {
  return Number(kb.slice(2));
}

/** What the rule needs to know about a KB. */
export interface SupersedenceFacts {
  roleOf(kb: string): PayloadKind | null;
  releasedOf(kb: string): string | null;
  /** KBs the knowledge base says this one replaces */
  explicitOf(kb: string): readonly string[];
}

export class Supersedence {
  constructor(private readonly facts: SupersedenceFacts) {}

  /** Does `newer` replace `older`? */
  supersedes(newer: string, older: string): boolean {
    if (newer === older) return false;
    if (this.facts.explicitOf(newer).includes(older)) return true;
    const rn = this.facts.roleOf(newer);
    const ro = this.facts.roleOf(older);
    if (!rn || !ro) return false;
    const chain = CHAIN_OF_ROLE[rn];
    if (!chain) return false;
    const dn = this.facts.releasedOf(newer);
    const dOld = this.facts.releasedOf(older);
    if (chain === CHAIN_OF_ROLE[ro]) return dn && dOld ? dn > dOld : kbNumber(newer) > kbNumber(older);
    if (chain === 'rollup' && ro === 'security-only') return dn && dOld ? dn >= dOld : kbNumber(newer) > kbNumber(older);
    return false;
  }

  /** An index over a growing set of KBs: which member (if any) replaces a given KB, without comparing against every member. */
  index(): ReplacementIndex {
    return new ReplacementIndex(this, this.facts);
  }
}

/**
 * Answers `Supersedence.supersedes` for "is there a member of the set that replaces kb?" in O(1).
 * Per chain it keeps the members that could win any comparison the rule makes (the newest dated
 * one, the highest-numbered undated one, the highest-numbered one) and asks the rule about those.
 */
export class ReplacementIndex {
  private readonly newestDated = new Map<Chain, { kb: string; released: string }>();
  private readonly newestUndated = new Map<Chain, string>();
  private readonly highest = new Map<Chain, string>();
  private readonly explicit = new Map<string, string>();

  constructor(
    private readonly rule: Supersedence,
    private readonly facts: SupersedenceFacts,
  ) {}

  add(kb: string): void {
    for (const older of this.facts.explicitOf(kb)) this.explicit.set(older, kb);
    const role = this.facts.roleOf(kb);
    const chain = role ? CHAIN_OF_ROLE[role] : undefined;
    if (!chain) return;
    const released = this.facts.releasedOf(kb);
    const hi = this.highest.get(chain);
    if (!hi || kbNumber(kb) > kbNumber(hi)) this.highest.set(chain, kb);
    if (released) {
      const cur = this.newestDated.get(chain);
      if (!cur || released > cur.released) this.newestDated.set(chain, { kb, released });
    } else {
      const cur = this.newestUndated.get(chain);
      if (!cur || kbNumber(kb) > kbNumber(cur)) this.newestUndated.set(chain, kb);
    }
  }

  replacementOf(kb: string): string | null {
    const e = this.explicit.get(kb);
    if (e) return e;
    const role = this.facts.roleOf(kb);
    const chain = role === 'security-only' ? 'rollup' : role ? CHAIN_OF_ROLE[role] : undefined;
    if (!chain) return null;
    // a dated KB is compared by date with dated members, by number with undated ones; an undated one always by number
    const contenders = this.facts.releasedOf(kb)
      ? [this.newestDated.get(chain)?.kb, this.newestUndated.get(chain)]
      : [this.highest.get(chain)];
    for (const m of contenders) if (m !== undefined && this.rule.supersedes(m, kb)) return m;
    return null;
  }
}
