import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { ALL_FORMATS, addFormats } from './formats.js';
import { toViolations } from './validation-errors.js';
import type { SchemaVerdict } from './validation-errors.js';

export type TrustedValidator = (body: unknown) => SchemaVerdict;

/**
 * For datarun's OWN schemas (request bodies, events), written and reviewed here: every error at
 * once is more useful to a caller fixing a request, and their patterns are ours. Never pass a
 * department's schema here; that is what RecordSchemaGuard is for.
 */
const trustedAjv = new Ajv2020({
  strict: true,
  allErrors: true,
  $data: false,
  ownProperties: true,
  useDefaults: false,
  coerceTypes: false,
  logger: false,
});
addFormats(trustedAjv, ALL_FORMATS);

/** Compiles at call time (once per schema object; ajv caches by identity); throws if the schema itself is wrong. */
export function compileTrusted(schema: object): TrustedValidator {
  let validate: ValidateFunction;
  try {
    validate = trustedAjv.compile(schema);
  } catch (error) {
    // ajv keeps a schema's $id registered even when compiling it failed: the next try would then
    // report "already exists" instead of what is wrong with it, every time.
    const id = (schema as { $id?: unknown }).$id;
    if (typeof id === 'string') trustedAjv.removeSchema(id);
    throw error;
  }
  return (body: unknown) => (validate(body) ? { ok: true } : { ok: false, errors: toViolations(validate.errors) });
}
