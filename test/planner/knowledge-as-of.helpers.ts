import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultKnowledgeBaseDir } from '../../src/knowledge/knowledge-base';
import { tempDir } from '../common.helpers';

/**
 * The shipped knowledge base as an operator had it on `date` (YYYY-MM-DD): updates released later
 * are left out, with every reference to them. Tests that stage the fixture payloads (which end in
 * October 2019) plan against it, so that "complete" means what it means: current against what is known.
 */
export function knowledgeBaseAsOf(date: string): string {
  const dir = tempDir('cabferry-kb-as-of-');
  // readable by every user: the read-only-catalog tests run the CLI as another user
  fs.chmodSync(dir, 0o755);
  const source = defaultKnowledgeBaseDir();
  for (const name of fs.readdirSync(source).filter((n) => n.endsWith('.json'))) {
    const doc = JSON.parse(fs.readFileSync(path.join(source, name), 'utf8')) as { updates: { kb: string; released: string; prerequisites?: { kb: string }[]; supersedes?: string[] }[]; esu?: { licensingPreparationKbs?: string[] } };
    const kept = new Set(doc.updates.filter((u) => u.released <= date).map((u) => u.kb));
    doc.updates = doc.updates.filter((u) => kept.has(u.kb)).map((u) => ({
      ...u,
      ...(u.prerequisites ? { prerequisites: u.prerequisites.filter((p) => kept.has(p.kb)) } : {}),
      ...(u.supersedes ? { supersedes: u.supersedes.filter((k) => kept.has(k)) } : {}),
    }));
    if (doc.esu && !(doc.esu.licensingPreparationKbs ?? []).some((k) => kept.has(k))) delete doc.esu;
    fs.writeFileSync(path.join(dir, name), JSON.stringify(doc, null, 2));
  }
  return dir;
}
