import type { BuildConfigResult } from './build-config.ts';
import type { Config, ConfigError } from './types.ts';

/** What a running component uses after a rebuild, and what it must report. */
export interface NextConfig {
  /** The config to run on: the new one when valid, else the last good one (undefined if none yet). */
  readonly config: Config | undefined;
  /** The errors of the rejected new config; empty when it was accepted. */
  readonly errors: readonly ConfigError[];
  /** True when the component runs on an older config than the cluster's objects describe (MetalLB's config_stale_bool). */
  readonly stale: boolean;
  /** True when every error is transient (a referenced object may still appear), so the state may heal by itself. */
  readonly transientOnly: boolean;
}

/**
 * Keep-last-good: a valid result replaces the config; an invalid one keeps `previous` and
 * reports the errors, so a bad edit never takes a running component down.
 */
export function nextConfig(previous: Config | undefined, result: BuildConfigResult): NextConfig {
  if (result.ok) return { config: result.config, errors: [], stale: false, transientOnly: false };
  return {
    config: previous,
    errors: result.errors,
    stale: true,
    transientOnly: result.errors.every((e) => e.transient === true),
  };
}
