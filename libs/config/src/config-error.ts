/**
 * A bad or missing setting. Its message is one line that starts with the variable to set:
 * `VARIABLE: expected … (got "…")` for a value, `VARIABLE: expected … in <file> (<what is wrong>)`
 * for a file the variable names (a key). runApp and the CLI print it after `configuration error: `.
 */
export class ConfigError extends Error {
  /** The file the variable names, when the file is what is wrong. */
  readonly file?: string;

  constructor(
    readonly variable: string,
    expected: string,
    got?: string,
  ) {
    super(`${variable}: expected ${expected}${got === undefined ? '' : ` (got ${JSON.stringify(got)})`}`);
    this.name = 'ConfigError';
  }

  /** The file `variable` names is missing, unreadable or does not hold what it should. */
  static inFile(variable: string, expected: string, file: string, problem: string): ConfigError {
    const error = new ConfigError(variable, `${expected} in ${file} (${problem.replace(/\s*\n\s*/g, ' ')})`);
    (error as { file?: string }).file = file;
    return error;
  }
}
