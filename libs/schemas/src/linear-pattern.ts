import { RE2JS } from 're2js';
import type { RegExpEngine } from 'ajv/dist/types/index.js';

/**
 * A `pattern` longer than this is refused: RE2 keeps matching linear, but the compiled program
 * (and its DFA cache) still grows with the pattern, and no record field needs a longer one.
 */
export const MAX_PATTERN_LENGTH = 1024;

/**
 * A JSON Schema `pattern` (ECMA-262 syntax) compiled by RE2 (re2js), which matches in time linear
 * in the input: a department's pattern cannot hang the process on a crafted record (ReDoS).
 *
 * ajv keeps compiled patterns in its instance scope keyed by `toString()`; a wrapper whose
 * `toString()` were the same for every pattern would make all patterns share the first one
 * compiled, so `toString()` is the pattern itself, as for a RegExp.
 */
export class LinearPattern {
  private constructor(
    readonly source: string,
    readonly flags: string,
    private readonly re2: RE2JS,
  ) {}

  /** Throws when RE2 cannot express the pattern (backreferences, lookaround) or it is too long. */
  static compile(source: string, flags = 'u'): LinearPattern {
    if (flags !== 'u' && flags !== '') throw new Error(`unsupported regular expression flags "${flags}"`);
    if (source.length > MAX_PATTERN_LENGTH) {
      throw new Error(`the pattern is longer than ${MAX_PATTERN_LENGTH} characters`);
    }
    // translateRegExp turns ECMA-only syntax RE2 spells differently (\uXXXX, (?<name>…)) into RE2's.
    return new LinearPattern(source, flags, RE2JS.compile(RE2JS.translateRegExp(source)));
  }

  /** Unanchored search, like RegExp.prototype.test (JSON Schema patterns are not implicitly anchored). */
  test(input: string): boolean {
    return this.re2.test(input);
  }

  toString(): string {
    return `/${this.source}/${this.flags}`;
  }
}

/** ajv's `code.regExp` option: every `pattern` and `patternProperties` key goes through RE2. */
export const linearRegExp: RegExpEngine = Object.assign((source: string, flags: string) => LinearPattern.compile(source, flags), { code: 'linearRegExp' });
