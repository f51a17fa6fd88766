import type { ErrorObject } from 'ajv/dist/2020.js';

/** One reason a value breaks a schema: `path` is a JSON Pointer into the value. */
export interface SchemaViolation {
  path: string;
  message: string;
}

export type SchemaVerdict = { ok: true } | { ok: false; errors: SchemaViolation[] };

function pointerToken(name: string): string {
  return name.replaceAll('~', '~0').replaceAll('/', '~1');
}

/**
 * ajv reports a missing or unexpected property at its parent object; the caller wants to know
 * which member, so the pointer names it.
 */
export function toViolations(errors: readonly ErrorObject[] | null | undefined): SchemaViolation[] {
  return (errors ?? []).map((error) => {
    const params = error.params as Record<string, unknown>;
    if (error.keyword === 'required' && typeof params.missingProperty === 'string') {
      return { path: `${error.instancePath}/${pointerToken(params.missingProperty)}`, message: 'is required' };
    }
    if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
      return { path: `${error.instancePath}/${pointerToken(params.additionalProperty)}`, message: 'is not allowed' };
    }
    return { path: error.instancePath, message: error.message ?? `breaks "${error.keyword}"` };
  });
}

export { pointerToken };
