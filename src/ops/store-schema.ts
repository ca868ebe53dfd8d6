import { isCluster, type Redis } from '../shared/redis.js';
import { scanKeys } from '../shared/scan-keys.js';
import { packageVersion } from '../shared/package-root.js';
import { KEY_LAYOUT, keyLayoutKey, layout2Name, migrateKeyLayout } from './key-layout.js';

/**
 * The store's schema version: the key layout this version of fleetscan reads and writes. Kept in
 * `${prefix}:layout`, the marker every version since the Redis Cluster names has read, so that an
 * older process finds the same key. Raise it (with a conversion in `migrateStore`) whenever a
 * release renames keys or changes what a key holds in a way older code would misread.
 */
export const STORE_SCHEMA = Number(KEY_LAYOUT);

export type StoreSchema =
  /** Nothing under the prefix yet: every version may start here. */
  | { state: 'empty' }
  | { state: 'current'; version: number }
  /** Written by an older version: `fleetscan migrate` converts it. */
  | { state: 'older'; version: number }
  /** Written by a newer version (or a marker this version cannot read). */
  | { state: 'newer'; version: number | null };

/** What reading or writing a store of this schema would do wrong, or null when it is safe. */
export class StoreSchemaError extends Error {
  override name = 'StoreSchemaError';
  /** Waiting does not help: a person must upgrade, or run `fleetscan migrate`. */
  readonly retryable = false;
}

/** Counts the keys of an unmarked store, and those still under the names of layout 1. */
async function surveyUnmarked(redis: Redis, prefix: string) {
  const found = { keys: 0, layout1: 0 };
  await scanKeys(redis, `${prefix}:*`, 1_000, (keys) => {
    found.keys += keys.length;
    found.layout1 += keys.filter((key) => layout2Name(prefix, key) !== null).length;
    return Promise.resolve();
  });
  return found;
}

/**
 * The schema of the store under `prefix`. Versions up to 0.1.0 wrote the marker only when a
 * process started on a store in use, so an unmarked store holding only layout-2 names is current:
 * it gets its marker here (the same value, so an older process reads what it expects).
 */
export async function readStoreSchema(redis: Redis, prefix: string): Promise<StoreSchema> {
  const marker = await redis.get(keyLayoutKey(prefix));
  if (marker !== null) {
    const version = /^\d+$/.test(marker) ? Number(marker) : null;
    if (version === null || version > STORE_SCHEMA) return { state: 'newer', version };
    return version === STORE_SCHEMA ? { state: 'current', version } : { state: 'older', version };
  }
  const found = await surveyUnmarked(redis, prefix);
  if (found.keys === 0) return { state: 'empty' };
  // A cluster never held layout 1 (it could not run it).
  if (found.layout1 > 0 && !isCluster(redis)) return { state: 'older', version: 1 };
  await redis.set(keyLayoutKey(prefix), KEY_LAYOUT, 'NX');
  return { state: 'current', version: STORE_SCHEMA };
}

/**
 * One sentence saying why this process must not go on against `schema`, or null. A newer store
 * stops everything (this code would misread it); an older one stops writes until it is migrated.
 */
export function schemaRefusal(schema: StoreSchema, access: 'read' | 'write'): string | null {
  const ours = `this fleetscan (${packageVersion()}) uses store layout ${String(STORE_SCHEMA)}`;
  if (schema.state === 'newer') {
    const theirs =
      schema.version === null ? 'an unreadable layout marker' : `layout ${String(schema.version)}`;
    return (
      `The Redis store has ${theirs}, written by a newer fleetscan; ${ours}. ` +
      'Run the newer version here (downgrades are refused); nothing was changed.'
    );
  }
  if (schema.state === 'older' && access === 'write') {
    return (
      `The Redis store has layout ${String(schema.version)}, written by an older fleetscan; ${ours}. ` +
      'Run `fleetscan migrate` once (safe while workers run), then start this again.'
    );
  }
  return null;
}

/** Throws `StoreSchemaError` when this process must not use the store as it intends to. */
export async function assertStoreSchema(
  redis: Redis,
  prefix: string,
  access: 'read' | 'write',
): Promise<StoreSchema> {
  const schema = await readStoreSchema(redis, prefix);
  const refusal = schemaRefusal(schema, access);
  if (refusal) throw new StoreSchemaError(refusal);
  return schema;
}

export interface StoreMigration {
  /** The layout found (null: empty store). */
  from: number | null;
  to: number;
  dryRun: boolean;
  /** Keys renamed (or, with dryRun, that would be). */
  renamed: number;
  /** Old keys left in place because their new name was taken. */
  conflicts: string[];
  /** One line for people. */
  summary: string;
}

/**
 * `fleetscan migrate`: converts an older store in place to this version's layout. Safe to run
 * twice (a current store is left alone) and while workers of this version run (each step is a
 * RENAMENX of a key they no longer use). A newer store is refused, unchanged.
 */
export async function migrateStore(
  redis: Redis,
  prefix: string,
  options: { dryRun: boolean },
): Promise<StoreMigration> {
  const schema = await readStoreSchema(redis, prefix);
  const base = { to: STORE_SCHEMA, dryRun: options.dryRun, renamed: 0, conflicts: [] };
  const refusal = schemaRefusal(schema, 'read');
  if (refusal) throw new StoreSchemaError(refusal);
  if (schema.state === 'empty') {
    return { ...base, from: null, summary: `empty store: nothing to migrate (prefix ${prefix})` };
  }
  if (schema.state === 'current') {
    return {
      ...base,
      from: schema.version,
      summary: `store already at layout ${String(STORE_SCHEMA)}: nothing to do (prefix ${prefix})`,
    };
  }
  if (options.dryRun) {
    const { layout1 } = await surveyUnmarked(redis, prefix);
    return {
      ...base,
      from: schema.version,
      renamed: layout1,
      summary: `would move ${String(layout1)} keys from layout ${String(schema.version)} to ${String(STORE_SCHEMA)} (dry run: nothing changed)`,
    };
  }
  if (schema.version === 1) await redis.del(keyLayoutKey(prefix));
  const moved = await migrateKeyLayout(redis, prefix);
  await redis.set(keyLayoutKey(prefix), KEY_LAYOUT);
  return {
    ...base,
    from: schema.version,
    renamed: moved.renamed,
    conflicts: moved.conflicts,
    summary: `moved ${String(moved.renamed)} keys from layout ${String(schema.version)} to ${String(STORE_SCHEMA)}${moved.conflicts.length > 0 ? `; ${String(moved.conflicts.length)} left in place (their new name was taken)` : ''}`,
  };
}
