import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  countDescriptors,
  metricsAddressOf,
  metricValue,
  nodeStatsOf,
  statusPrivateRssBytes,
  statusRssBytes,
} from './process-read.ts';

const STATUS = `Name:\tnode
Umask:\t0022
State:\tS (sleeping)
VmPeak:\t 1234567 kB
VmHWM:\t   70000 kB
VmRSS:\t   65432 kB
RssAnon:\t   40000 kB
Threads:\t11
`;

describe('soak readings', () => {
  it('the resident set from /proc/PID/status, in bytes; none for a zombie', () => {
    assert.equal(statusRssBytes(STATUS), 65_432 * 1024);
    assert.equal(statusRssBytes('Name:\tbird\nState:\tZ (zombie)\n'), undefined);
    // VmHWM and RssAnon are not the resident set.
    assert.equal(statusRssBytes('VmHWM:\t 5 kB\nRssAnon:\t 4 kB\n'), undefined);
  });

  it('the private resident set from RssAnon, not VmRSS or RssFile', () => {
    assert.equal(statusPrivateRssBytes(STATUS), 40_000 * 1024);
    assert.equal(statusPrivateRssBytes('VmRSS:\t 5 kB\nRssFile:\t 4 kB\n'), undefined);
  });

  it('descriptors and sockets from the fd link targets', () => {
    assert.deepEqual(
      countDescriptors([
        '/dev/null',
        'pipe:[1234]',
        'socket:[998877]',
        'anon_inode:[eventpoll]',
        'socket:[5]',
        '/var/log/x socket:[1]',
      ]),
      { fds: 6, sockets: 2 },
    );
    assert.deepEqual(countDescriptors([]), { fds: 0, sockets: 0 });
  });

  it('metric values: unlabelled samples only, numbers only', () => {
    const text = [
      '# HELP nodejs_heap_size_used_bytes Process heap size used from Node.js in bytes',
      '# TYPE nodejs_heap_size_used_bytes gauge',
      'nodejs_heap_size_used_bytes 12345678',
      'nodejs_heap_space_size_used_bytes{space="old"} 999',
      'nodejs_eventloop_lag_p99_seconds 0.0123 1700000000000',
      'nodejs_eventloop_lag_max_seconds NaN',
      'nodejs_heap_size_used_bytes_extra 1',
      'nodejs_heap_size_total_bytes 23456789',
      'nodejs_external_memory_bytes 3.5e+06',
    ].join('\n');
    assert.equal(metricValue(text, 'nodejs_heap_size_used_bytes'), 12_345_678);
    assert.equal(metricValue(text, 'nodejs_eventloop_lag_p99_seconds'), 0.0123);
    assert.equal(metricValue(text, 'nodejs_heap_space_size_used_bytes'), undefined);
    assert.equal(metricValue(text, 'nodejs_eventloop_lag_max_seconds'), undefined);
    assert.equal(metricValue(text, 'absent'), undefined);
    const stats = nodeStatsOf(text);
    assert.equal(stats.heapUsedBytes, 12_345_678);
    assert.equal(stats.heapTotalBytes, 23_456_789);
    assert.equal(stats.externalBytes, 3_500_000);
    assert.ok(Math.abs((stats.loopDelayP99Ms ?? 0) - 12.3) < 1e-9, `${stats.loopDelayP99Ms}`);
    assert.deepEqual(nodeStatsOf('<html>not metrics</html>'), {});
  });

  it("the metrics address from a daemon's JSON log: the last one logged, nothing from other lines", () => {
    const log = [
      '{"level":30,"msg":"starting"}',
      '{"level":30,"address":"127.0.0.1:40123","msg":"serving /metrics, /healthz, /readyz"}',
      'serving /metrics (not JSON)',
      '{"level":30,"address":"127.0.0.1:40999","msg":"serving /metrics, /healthz, /readyz"}',
      '{"level":30,"address":"evil host:1; rm","msg":"serving /metrics, /healthz, /readyz"}',
      '{"level":30,"address":42,"msg":"serving /metrics"}',
    ].join('\n');
    assert.equal(metricsAddressOf(log), '127.0.0.1:40999');
    assert.equal(
      metricsAddressOf('{"address":"[::1]:7472","msg":"serving /metrics, /healthz, /readyz"}'),
      '[::1]:7472',
    );
    assert.equal(metricsAddressOf('{"msg":"leading"}'), undefined);
  });
});
