import type { Ajv2020 } from 'ajv/dist/2020.js';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import type { FormatName } from 'ajv-formats/dist/formats.js';

/**
 * Formats a department's schema may assert. Each is a fixed, vetted check from ajv-formats;
 * `regex` is left out on purpose (it would compile record data as a JavaScript RegExp), and so
 * are the URI and IPv6 formats, whose long regular expressions have no use in a citizen's record.
 */
export const RECORD_FORMATS: readonly FormatName[] = ['date', 'time', 'date-time', 'duration', 'email', 'uuid', 'ipv4'];

export function addFormats(ajv: Ajv2020, names: readonly FormatName[]): void {
  for (const name of names) ajv.addFormat(name, fullFormats[name]);
}

export const ALL_FORMATS = Object.keys(fullFormats) as FormatName[];
