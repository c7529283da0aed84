import { buildConfig, type ConfigInputs } from '../../shared/config/build-config.ts';
import { nextConfig } from '../../shared/config/next-config.ts';
import { type Config, formatConfigError } from '../../shared/config/types.ts';
import type { Logger } from '../../shared/log/logger.ts';
import type { SpeakerMetrics } from './metrics.ts';

export interface ConfigKeeperOptions {
  /** Our namespace: CRs elsewhere are errors. */
  readonly namespace: string;
  /** The CRs, Nodes and Secrets as the caches hold them now. */
  readonly inputs: () => ConfigInputs;
  readonly metrics: Pick<SpeakerMetrics, 'configLoaded' | 'configStale'>;
  readonly log: Logger;
}

/**
 * The configuration in force, rebuilt from the caches on every change (shared/config): a rejected
 * one keeps the last good one running (stale) and is reported once, until it is valid again.
 */
export class ConfigKeeper {
  readonly #o: ConfigKeeperOptions;
  #config: Config | undefined;
  #stale = false;

  constructor(options: ConfigKeeperOptions) {
    this.#o = options;
  }

  /** The configuration in force; undefined while none was ever valid. */
  get current(): Config | undefined {
    return this.#config;
  }

  rebuild(): void {
    const { metrics, log } = this.#o;
    const next = nextConfig(this.#config, buildConfig(this.#o.inputs(), { namespace: this.#o.namespace }));
    const wasStale = this.#stale;
    this.#config = next.config;
    this.#stale = next.stale;
    metrics.configLoaded.set(next.config ? 1 : 0);
    metrics.configStale.set(next.stale ? 1 : 0);
    if (next.errors.length > 0 && !wasStale) {
      log.warn(
        { errors: next.errors.map(formatConfigError) },
        next.config
          ? 'configuration rejected; the last good one stays'
          : 'configuration rejected; none loaded yet',
      );
    } else if (next.errors.length === 0 && wasStale) {
      log.info('configuration valid again');
    }
  }
}
