/**
 * The command a command line names: its first word that is not an option, as `cabferry verify …`
 * names verify. The launcher (./launch) picks the program file that serves it and ./main loads only
 * its module: both ask here, so they never disagree about which command is meant. undefined for
 * none (`cabferry`, `cabferry --help`).
 */
export function requestedCommand(argv: readonly string[]): string | undefined {
  return argv.slice(2).find((a) => !a.startsWith('-'));
}
