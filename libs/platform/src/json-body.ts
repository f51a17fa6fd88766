import { Problem } from '@datarun/problems';
import { compileTrusted } from '@datarun/schemas';
import type { PipeTransform } from '@nestjs/common';

/**
 * Validates a request body against datarun's own JSON Schema (the same object the controller
 * gives @ApiBody, so the document and the check cannot drift apart). It runs after the edge has
 * checked the caller and the route's roles: a caller who may not call the route learns nothing
 * of its schema. With `optional` (a body the OpenAPI marks `required: false`) no body at all is
 * `undefined`; a body that is sent is still validated.
 */
export class JsonBody<T = unknown> implements PipeTransform<unknown, T | undefined> {
  private readonly check: ReturnType<typeof compileTrusted>;
  private readonly optional: boolean;

  constructor(schema: Record<string, unknown>, options: { optional?: boolean } = {}) {
    this.check = compileTrusted(schema);
    this.optional = options.optional ?? false;
  }

  transform(value: unknown): T | undefined {
    if (value === undefined && this.optional) return undefined;
    const result = this.check(value ?? null);
    if (!result.ok) {
      const first = result.errors[0];
      throw new Problem('VALIDATION_FAILED', `${first.path || 'the body'}: ${first.message}`, { errors: result.errors });
    }
    return value as T;
  }
}
