import type { ControlPacket, SessionStateName } from '../codec/index.ts';

/** The timers and role of a session, from its BFDProfile; may change while it runs. */
export interface BfdTimers {
  /** bfd.DesiredMinTxInterval once Up (µs); while not Up at least 1 s is sent (RFC 5880 §6.8.3). */
  readonly desiredMinTxUs: number;
  /** bfd.RequiredMinRxInterval (µs). */
  readonly requiredMinRxUs: number;
  /** bfd.DetectMult. */
  readonly detectMult: number;
  /** Passive role (RFC 5880 §6.1): send nothing until the peer's packet names its discriminator. */
  readonly passive: boolean;
}

/** Everything a session needs; the shell picks the discriminator and the seed. */
export interface BfdSessionConfig extends BfdTimers {
  /** bfd.LocalDiscr: non-zero and unique among this system's sessions. */
  readonly localDiscriminator: number;
  /** Seed of the jitter generator (RFC 5880 §6.8.7), so runs are repeatable under test. */
  readonly jitterSeed: number;
}

/**
 * The whole session: a plain value that step() replaces. Field comments name the RFC 5880
 * §6.8.1 variable where there is one. Times are the caller's monotonic milliseconds.
 */
export interface BfdState {
  readonly config: BfdSessionConfig;
  /** bfd.SessionState. */
  readonly sessionState: SessionStateName;
  /** bfd.LocalDiag: why the state last went down; kept until the next such change. */
  readonly localDiag: number;
  /** bfd.RemoteSessionState. */
  readonly remoteState: SessionStateName;
  /** bfd.RemoteDiscr: 0 until a packet arrives, and again after a Detection Time of silence. */
  readonly remoteDiscriminator: number;
  /** The diag of the peer's last packet (status only). */
  readonly remoteDiag: number;
  /** bfd.RemoteMinRxInterval (µs); 1 until the peer tells (§6.8.1). */
  readonly remoteMinRxUs: number;
  /** The peer's last Desired Min TX Interval (µs), for the Detection Time. */
  readonly remoteDesiredMinTxUs: number;
  /** The peer's last Detect Mult; 0 until a packet arrives (then no Detection Time runs). */
  readonly remoteDetectMult: number;
  /** bfd.RemoteDemandMode. */
  readonly remoteDemand: boolean;
  /** bfd.DesiredMinTxInterval and bfd.RequiredMinRxInterval: the values our packets carry. */
  readonly advertisedTxUs: number;
  readonly advertisedRxUs: number;
  /**
   * The values in force for our transmit interval and our Detection Time. They differ from the
   * advertised ones only during a Poll Sequence: an increased TX interval and a reduced RX
   * interval wait for the Final (RFC 5880 §6.8.3).
   */
  readonly txInUseUs: number;
  readonly rxInUseUs: number;
  /** A Poll Sequence runs: periodic packets carry P until a packet with F arrives (§6.5). */
  readonly polling: boolean;
  /** A Poll was answered while Finals were rate-limited: the next periodic packet carries F. */
  readonly finalPending: boolean;
  readonly lastFinalMs: number | undefined;
  /** When the last periodic packet left. */
  readonly lastTxMs: number | undefined;
  /** When the armed TX timer fires, and the interval it was drawn for; undefined: not armed. */
  readonly nextTxMs: number | undefined;
  readonly nextTxIntervalUs: number | undefined;
  /** When the last packet counted for the Detection Time arrived. */
  readonly lastRxMs: number | undefined;
  /** When the armed detection timer fires; undefined: not armed. */
  readonly detectDeadlineMs: number | undefined;
  /** When sessionState last changed. */
  readonly changedAtMs: number;
  /** Jitter generator state. */
  readonly rng: number;
}

/** Inputs of step(). */
export type BfdEvent =
  /** A packet that passed receiveControlPacket() for this session. */
  | { readonly type: 'PacketReceived'; readonly packet: ControlPacket }
  | { readonly type: 'TxTimerExpired' }
  | { readonly type: 'DetectTimerExpired' }
  /** §6.8.16 disable; diag defaults to Administratively Down (Path Down when the path failed). */
  | { readonly type: 'AdminDown'; readonly diag?: number }
  /** §6.8.16 enable. */
  | { readonly type: 'AdminUp' }
  /** New timers or role (a changed BFDProfile); while Up they go through a Poll Sequence. */
  | { readonly type: 'Reconfigure'; readonly timers: BfdTimers };

/**
 * Outputs of step(), carried out by the shell in order. Timer durations are milliseconds from
 * now and may have a fraction (the wire counts µs): the shell rounds up, never down, so a
 * packet never leaves earlier than the jitter allows.
 */
export type BfdAction =
  | { readonly type: 'sendPacket'; readonly packet: ControlPacket }
  /** (Re)arm the TX timer; replaces an armed one. */
  | { readonly type: 'startTxTimer'; readonly ms: number }
  | { readonly type: 'stopTxTimer' }
  /** (Re)arm the detection timer; replaces an armed one. */
  | { readonly type: 'startDetectTimer'; readonly ms: number }
  | {
      readonly type: 'stateChanged';
      readonly from: SessionStateName;
      readonly to: SessionStateName;
      /** bfd.LocalDiag after the change. */
      readonly diag: number;
      /**
       * The peer's last state. A client protocol should not go down because the peer said
       * AdminDown (RFC 5882 §3.2), only because the path failed.
       */
      readonly remoteState: SessionStateName;
    };

export interface StepResult {
  readonly state: BfdState;
  readonly actions: readonly BfdAction[];
}
