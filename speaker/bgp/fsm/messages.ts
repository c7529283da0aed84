import { type BgpMessage, ErrorCode, FsmSubcode, notification, OpenSubcode } from '../codec/index.ts';
import { negotiate } from './negotiation.ts';
import type { Step } from './step-context.ts';
import { acceptOpen, restartHold, toIdle } from './transitions.ts';

/**
 * A decoded message from the peer on the main connection (RFC 4271 §8.2.2 events 19-28): before
 * Established only OPEN, KEEPALIVE and NOTIFICATION are expected; once Established, UPDATE and
 * ROUTE-REFRESH go to the shell and every message restarts the hold timer.
 */

export function onMessageBeforeEstablished(s: Step, message: BgpMessage, nowMs: number): void {
  const st = s.state;
  const inConfirm = st.name === 'OpenConfirm';
  switch (message.type) {
    case 'open':
      if (inConfirm) {
        // §8.2.2 OpenConfirm: an OPEN failing the checks of §6.2 gets their error (event 22); one
        // passing them is unexpected on a connection that has had its OPEN (RFC 6608).
        const checked = negotiate(st.config, message);
        toIdle(s, 'second OPEN', {
          notify:
            'type' in checked
              ? checked
              : notification(ErrorCode.FsmError, FsmSubcode.UnexpectedMessageInOpenConfirm),
          restart: true,
          countFailure: true,
        });
        return;
      }
      acceptOpen(s, message);
      return;
    case 'notification':
      // A version error (event 24) does not count as a failure; any other one (25) does.
      toIdle(s, `NOTIFICATION ${message.code}/${message.subcode} received`, {
        restart: true,
        countFailure: !(
          message.code === ErrorCode.OpenMessage && message.subcode === OpenSubcode.UnsupportedVersionNumber
        ),
      });
      return;
    case 'keepalive':
      if (inConfirm) {
        const negotiated = st.negotiated!;
        s.set({ name: 'Established', connectRetryCounter: 0, establishedAtMs: nowMs });
        restartHold(s);
        s.do({ type: 'established', conn: st.main!.id, negotiated });
        return;
      }
      toIdle(s, 'KEEPALIVE before OPEN', {
        notify: notification(ErrorCode.FsmError, FsmSubcode.UnexpectedMessageInOpenSent),
        restart: true,
        countFailure: true,
      });
      return;
    default:
      toIdle(s, `${message.type} before Established`, {
        notify: notification(
          ErrorCode.FsmError,
          inConfirm ? FsmSubcode.UnexpectedMessageInOpenConfirm : FsmSubcode.UnexpectedMessageInOpenSent,
        ),
        restart: true,
        countFailure: true,
      });
  }
}

export function onMessageEstablished(s: Step, message: BgpMessage): void {
  switch (message.type) {
    case 'keepalive':
      restartHold(s);
      return;
    case 'update':
      restartHold(s);
      s.do({ type: 'update', message });
      return;
    case 'route-refresh':
      restartHold(s);
      s.do({ type: 'routeRefresh', afi: message.afi, safi: message.safi, subtype: message.subtype });
      return;
    case 'notification':
      toIdle(s, `NOTIFICATION ${message.code}/${message.subcode} received`, {
        restart: true,
        countFailure: true,
      });
      return;
    case 'open':
      toIdle(s, 'OPEN in Established', {
        notify: notification(ErrorCode.FsmError, FsmSubcode.UnexpectedMessageInEstablished),
        restart: true,
        countFailure: true,
      });
      return;
  }
}
