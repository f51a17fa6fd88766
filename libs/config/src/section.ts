import type { z } from 'zod';
import type { ProcessConfig } from './sections/process.js';

/** A variable without a default of its own: where its value comes from when it is unset, for the docs. */
export interface DerivedDefault<Value> {
  /** The variables it is computed from, in words. */
  readonly from: string;
  /** The value loadConfig computes, read from the section's own configuration. */
  readonly value: (section: Value) => string | undefined;
}

/**
 * One concern's part of the configuration (like Nest's `registerAs`): its variables, each with
 * its type, bounds, default and `.describe()` (the documentation), and how they become the typed
 * section its lib reads. `base` is the process section (ports, local folder), which other
 * sections' defaults may be derived from.
 */
export interface ConfigSection<Shape extends z.ZodRawShape, Value> {
  readonly name: string;
  /** Who reads it, as the documentation names it. */
  readonly owner: string;
  readonly variables: z.ZodObject<Shape>;
  readonly derived?: { readonly [K in keyof Shape]?: DerivedDefault<NoInfer<Value>> };
  read(variables: z.output<z.ZodObject<Shape>>, base: ProcessConfig): Value;
}

export function defineSection<Shape extends z.ZodRawShape, Value>(section: ConfigSection<Shape, Value>): ConfigSection<Shape, Value> {
  return section;
}
