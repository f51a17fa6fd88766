import { Problem } from '@datarun/problems';
import { compileTrusted } from '@datarun/schemas';
import type { PipeTransform } from '@nestjs/common';

/**
 * Validates a request body against datarun's own JSON Schema (the same object the controller
 * gives @ApiBody, so the document and the check cannot drift apart).
 */
export class JsonBody<T = unknown> implements PipeTransform<unknown, T> {
  private readonly check: ReturnType<typeof compileTrusted>;

  constructor(schema: Record<string, unknown>) {
    this.check = compileTrusted(schema);
  }

  transform(value: unknown): T {
    const result = this.check(value ?? null);
    if (!result.ok) {
      const first = result.errors[0];
      throw new Problem('VALIDATION_FAILED', `${first.path || 'the body'}: ${first.message}`, { errors: result.errors });
    }
    return value as T;
  }
}
