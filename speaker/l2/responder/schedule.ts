/** When gratuitous ARP / unsolicited NA go out after a takeover, and how often afterwards. */
export interface AnnounceSchedule {
  /** Announcements in the takeover burst, the first one immediately. */
  readonly burstCount: number;
  /** Gap between announcements of the burst. */
  readonly burstIntervalMs: number;
  /** Re-announce every owned IP this often (0: never), for switches that age MAC entries. */
  readonly refreshIntervalMs: number;
}

/** Default: immediately, then 4 more within 2 s; no periodic refresh. */
export const DEFAULT_SCHEDULE: AnnounceSchedule = {
  burstCount: 5,
  burstIntervalMs: 500,
  refreshIntervalMs: 0,
};

/** Offsets from the takeover at which the burst's announcements are sent. */
export function burstOffsetsMs(schedule: AnnounceSchedule): number[] {
  return Array.from({ length: Math.max(1, schedule.burstCount) }, (_, i) => i * schedule.burstIntervalMs);
}

/** Checks a schedule; returns a sentence naming the bad field, or undefined. */
export function validateSchedule(schedule: AnnounceSchedule): string | undefined {
  if (!Number.isInteger(schedule.burstCount) || schedule.burstCount < 1 || schedule.burstCount > 100) {
    return `burstCount must be an integer 1-100, got ${schedule.burstCount}`;
  }
  if (!Number.isFinite(schedule.burstIntervalMs) || schedule.burstIntervalMs < 1) {
    return `burstIntervalMs must be >= 1, got ${schedule.burstIntervalMs}`;
  }
  if (!Number.isFinite(schedule.refreshIntervalMs) || schedule.refreshIntervalMs < 0) {
    return `refreshIntervalMs must be >= 0 (0 disables refresh), got ${schedule.refreshIntervalMs}`;
  }
  if (schedule.refreshIntervalMs > 0 && schedule.refreshIntervalMs < 1000) {
    return `refreshIntervalMs must be 0 or >= 1000, got ${schedule.refreshIntervalMs}`;
  }
  return undefined;
}
