// The kinds of value the configuration sections share. An empty variable counts as unset
// (loadConfig drops it), so the minimums of the path kinds only name what is expected.
import { z } from 'zod';

export const port = z.coerce.number().int().min(1).max(65535);

export const postgresUrl = z.string().refine((v) => {
  try {
    return ['postgres:', 'postgresql:'].includes(new URL(v).protocol);
  } catch {
    return false;
  }
}, 'a postgres://user@host:port/database URL');

export const brokers = z
  .string()
  .regex(/^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/, 'a comma-separated list of host:port')
  .transform((v) => v.split(','));

export const filePath = z.string().min(1, 'a file path');
export const folderPath = z.string().min(1, 'a folder path');
export const identifier = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case SQL identifier');

/** A URL without its trailing slashes, so that paths can be appended to it. */
export const baseUrl = (url: string): string => url.replace(/\/+$/, '');
