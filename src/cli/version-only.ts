import { version } from '../version';

/**
 * `cabferry --version` alone: answered before commander, any command module or the bundled
 * program loads (by the installed launcher, ./launch, and by ./main when run unbundled).
 * Returns whether it answered.
 */
export function answerVersionOnly(argv: readonly string[]): boolean {
  const args = argv.slice(2);
  if (args.length !== 1 || (args[0] !== '--version' && args[0] !== '-V')) return false;
  process.stdout.write(`${version}\n`);
  return true;
}
