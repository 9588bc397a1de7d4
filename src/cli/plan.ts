import type { Command } from 'commander';
import { openCatalog } from '../catalog/catalog';
import { catalogTrust, TrustJudge } from '../catalog/live-trust';
import { ExitCode } from '../errors';
import { loadKnowledgeBase, planHosts, readHostInventories, type HostPlan } from '../planner';
import { planDocument, planGoalFromOptions, planText } from '../planner/present';
import { action, printJson } from './run';

/**
 * `cabferry plan --host FILE… [--catalog DIR] [--target KB…] [--security-only] [--simulate] [--json]`:
 * the install sequence for each host, from the catalog's verified payloads that chain now to an
 * anchor of its trust set, and the knowledge base. Exit 0 when every plan is complete, 1 when a
 * prerequisite must still be fetched or trusted (or a host could not be planned), 2 usage, 3 an
 * unreadable inventory.
 */
export function register(program: Command): void {
  program
    .command('plan')
    .description('plan the install sequence for disconnected hosts from their inventories')
    .requiredOption('--host <files...>', 'host inventories: systeminfo, wmic qfe, Get-HotFix CSV/JSON, a JSON profile or collect-script output')
    .option('--catalog <dir>', 'the catalog whose payloads to plan with')
    .option('--target <kbs...>', 'install these KBs (and what they need) instead of bringing the host fully current')
    .option('--security-only', 'security-only updates instead of monthly rollups')
    .option('--simulate', "show the host's state after each step (build, servicing stack, SHA-2 support, pending restart)")
    .option('--knowledge-base <dir>', 'use this knowledge base folder instead of the one shipped with cabferry')
    .option('--json', 'print one JSON document: {"hosts":[…]}')
    .action(
      action((opts: PlanCliOptions) => {
        const goal = planGoalFromOptions(opts);
        const hosts = readHostInventories(opts.host);
        const kb = loadKnowledgeBase(opts.knowledgeBase);
        const catalog = openCatalog({ dir: opts.catalog, access: 'read' });
        let plans: HostPlan[];
        try {
          // trust is live: only payloads that chain now to an anchor the catalog trusts are planned
          const judge = new TrustJudge(catalog, catalogTrust(catalog));
          plans = planHosts(hosts, catalog.payloads(), kb, goal, (sha256s) => judge.untrusted(sha256s));
        } finally {
          catalog.close();
        }
        if (opts.json) printJson(planDocument(plans, Boolean(opts.simulate)));
        else process.stdout.write(plans.map((p) => planText(p, Boolean(opts.simulate))).join('\n'));
        return plans.every((p) => p.complete) ? ExitCode.ok : ExitCode.negative;
      }),
    );
}

interface PlanCliOptions {
  host: string[];
  catalog?: string;
  target?: string[];
  securityOnly?: boolean;
  simulate?: boolean;
  knowledgeBase?: string;
  json?: boolean;
}
