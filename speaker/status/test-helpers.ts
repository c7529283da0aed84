import type { SessionReport } from './status-objects.ts';

/** Builders for the tests of the status rules and their writers (speaker/shell). */

/** An Established session to `peer` at 192.0.2.1, since 2026-01-01. */
export const sessionReport = (peer: string, prefixesAdvertised = 1): SessionReport => ({
  peer,
  peerAddress: '192.0.2.1',
  state: 'Established',
  sinceMs: Date.UTC(2026, 0, 1),
  prefixesAdvertised,
  lastError: '',
});
