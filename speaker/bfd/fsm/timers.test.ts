import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { anyControlPacket } from '../codec/fixtures.ts';
import { encodeControlPacket } from '../codec/index.ts';
import { startSession, step } from './fsm.ts';
import {
  jitteredIntervalUs,
  nextRandom,
  SLOW_TX_US,
  timersFromProfile,
  transmitIntervalUs,
  validateSessionConfig,
} from './timers.ts';
import type { BfdEvent, BfdSessionConfig, BfdState } from './types.ts';

const CONFIG: BfdSessionConfig = {
  desiredMinTxUs: 300_000,
  requiredMinRxUs: 300_000,
  detectMult: 3,
  passive: false,
  localDiscriminator: 7,
  jitterSeed: 99,
};

const bounds = (detectMult: number): [number, number] => (detectMult === 1 ? [0.75, 0.9] : [0.75, 1]);

describe('BFD jitter (RFC 5880 §6.8.7)', () => {
  it('keeps every interval within 75-100 %, and within 75-90 % when Detect Mult is 1', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 0xffffffff }),
        fc.integer({ min: 1, max: 255 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (intervalUs, detectMult, random) => {
          const [low, high] = bounds(detectMult);
          const j = jitteredIntervalUs(intervalUs, detectMult, random);
          assert.ok(j >= low * intervalUs && j <= high * intervalUs, `${j} of ${intervalUs}`);
        },
      ),
      { numRuns: 5000, seed: 6887 },
    );
  });

  it('the generator stays in [0, 1) and spreads over the whole jitter range', () => {
    let seed = 1;
    let min = 1;
    let max = 0;
    for (let i = 0; i < 10_000; i++) {
      const r = nextRandom(seed);
      seed = r.seed;
      assert.ok(r.value >= 0 && r.value < 1);
      min = Math.min(min, r.value);
      max = Math.max(max, r.value);
    }
    assert.ok(min < 0.01 && max > 0.99, `${min} ${max}`);
    assert.notEqual(nextRandom(0).seed, 0, 'seed 0 does not stick at 0');
  });

  it('a running Up session draws every TX timer within the bounds of its negotiated interval', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1_000, max: 60_000_000 }),
        fc.integer({ min: 1_000, max: 60_000_000 }),
        fc.integer({ min: 1, max: 255 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (desiredMinTxUs, remoteRxUs, detectMult, jitterSeed) => {
          const config = { ...CONFIG, desiredMinTxUs, detectMult, jitterSeed };
          const peer = (state: 'Down' | 'Up', final: boolean): BfdEvent => ({
            type: 'PacketReceived',
            packet: {
              diag: 0,
              state,
              poll: false,
              final,
              controlPlaneIndependent: false,
              demand: false,
              detectMult: 3,
              myDiscriminator: 5,
              yourDiscriminator: state === 'Up' ? 7 : 0,
              desiredMinTxUs: 1_000_000,
              requiredMinRxUs: remoteRxUs,
              requiredMinEchoRxUs: 0,
            },
          });
          let s = startSession(config, 0).state;
          s = step(s, peer('Down', false), 1).state; // Init
          s = step(s, peer('Up', true), 2).state; // Up; the Final ends the Poll at once
          assert.equal(s.sessionState, 'Up');
          const interval = Math.max(desiredMinTxUs, remoteRxUs) / 1000;
          assert.equal(transmitIntervalUs(s) / 1000, interval);
          const [low, high] = bounds(detectMult);
          let now = 10;
          for (let i = 0; i < 20; i++) {
            const r = step(s, { type: 'TxTimerExpired' }, now);
            const timer = r.actions.find((a) => a.type === 'startTxTimer');
            assert.ok(timer?.type === 'startTxTimer');
            assert.ok(timer.ms >= low * interval - 1e-9 && timer.ms <= high * interval + 1e-9);
            s = r.state;
            now += timer.ms;
          }
        },
      ),
      { numRuns: 300, seed: 6870 },
    );
  });
});

describe('BFD state machine under arbitrary input', () => {
  const timers = fc.record({
    desiredMinTxUs: fc.integer({ min: 10_000, max: 60_000_000 }),
    requiredMinRxUs: fc.integer({ min: 10_000, max: 60_000_000 }),
    detectMult: fc.integer({ min: 1, max: 255 }),
    passive: fc.boolean(),
  });
  const event: fc.Arbitrary<BfdEvent> = fc.oneof(
    { arbitrary: anyControlPacket.map((p) => ({ type: 'PacketReceived' as const, packet: p })), weight: 5 },
    { arbitrary: fc.constant({ type: 'TxTimerExpired' as const }), weight: 4 },
    { arbitrary: fc.constant({ type: 'DetectTimerExpired' as const }), weight: 2 },
    fc.constant({ type: 'AdminDown' as const }),
    fc.constant({ type: 'AdminUp' as const }),
    timers.map((t) => ({ type: 'Reconfigure' as const, timers: t })),
  );

  it('never throws, sends only packets that encode, never P with F, stays slow while not Up', () => {
    fc.assert(
      fc.property(
        timers,
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.array(fc.tuple(event, fc.integer({ min: 0, max: 5_000 })), { maxLength: 60 }),
        (t, jitterSeed, events) => {
          let s: BfdState = startSession({ ...CONFIG, ...t, jitterSeed }, 0).state;
          let now = 0;
          for (const [e, dt] of events) {
            now += dt;
            const r = step(s, e, now);
            for (const a of r.actions) {
              if (a.type === 'sendPacket') {
                encodeControlPacket(a.packet);
                assert.ok(!(a.packet.poll && a.packet.final));
                if (r.state.config.passive) assert.notEqual(a.packet.yourDiscriminator, 0);
              }
              if (a.type === 'startTxTimer' || a.type === 'startDetectTimer') assert.ok(a.ms >= 0);
            }
            s = r.state;
            if (s.sessionState !== 'Up') assert.ok(s.advertisedTxUs >= SLOW_TX_US);
          }
        },
      ),
      { numRuns: 1000, seed: 5880 },
    );
  });
});

describe('BFD session configuration', () => {
  it('accepts a valid configuration', () => {
    assert.deepEqual(validateSessionConfig(CONFIG), []);
  });

  it('names each field out of range', () => {
    assert.deepEqual(
      validateSessionConfig({
        ...CONFIG,
        desiredMinTxUs: 0,
        detectMult: 256,
        localDiscriminator: 0,
        requiredMinRxUs: 1.5,
      }),
      [
        'desiredMinTxUs 0 must be a whole number from 1 to 4294967295',
        'requiredMinRxUs 1.5 must be a whole number from 0 to 4294967295',
        'detectMult 256 must be a whole number from 1 to 255',
        'localDiscriminator 0 must be a whole number from 1 to 4294967295',
      ],
    );
  });

  it('turns a BFDProfile (milliseconds) into wire timers (microseconds)', () => {
    assert.deepEqual(
      timersFromProfile({
        name: 'p',
        receiveIntervalMs: 300,
        transmitIntervalMs: 50,
        detectMultiplier: 3,
        echoIntervalMs: 50,
        passiveMode: true,
        minimumTtl: 254,
      }),
      { desiredMinTxUs: 50_000, requiredMinRxUs: 300_000, detectMult: 3, passive: true },
    );
  });
});
