import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CurlResult } from './curl.ts';
import { APP_A, APP_B, backendAnswer, nginxConfig, parseBackendAnswer } from './ingress-apps.ts';
import { ingressRequests, wrongAnswer } from './ingress-report.ts';

describe('the lab ingress rules', () => {
  it('a backend answer names app and node, and only such a body parses', () => {
    assert.equal(backendAnswer('app-a', 'node-2'), 'app-a on node-2');
    assert.deepEqual(parseBackendAnswer('app-b on node-3\n'), { app: 'app-b', node: 'node-3' });
    for (const body of ['node-1', '', 'app-a on', 'nginx on node-1: no route for x/', 'app a on node-1'])
      assert.equal(parseBackendAnswer(body), undefined, body);
  });

  it('nginx.conf keeps nginx in the foreground and everything it writes in the lab directory', () => {
    const conf = nginxConfig({ node: 'node-2', dir: '/run/metalbeacon-lab/mb/nginx-node-2/', port: 80 });
    assert.match(conf, /^daemon off;$/m);
    assert.match(conf, /^pid \/run\/metalbeacon-lab\/mb\/nginx-node-2\/nginx\.pid;$/m);
    const paths = [...conf.matchAll(/^\s*(?:pid|error_log|access_log|\w+_temp_path) (\S+?);?(?: \w+;)?$/gm)];
    assert.equal(paths.length, 8, conf);
    for (const [, path] of paths) assert.match(path ?? '', /^\/run\/metalbeacon-lab\/mb\/nginx-node-2\/[^/]/);
    assert.doesNotMatch(conf, /\/etc\/nginx|\/var\/|include /);
    // Both families on the port; the path route in the default server, the host route in its own.
    assert.equal(conf.match(/listen 80( default_server)?;/g)?.length, 2);
    assert.equal(conf.match(/listen \[::\]:80( default_server)?;/g)?.length, 2);
    assert.match(conf, /location \/app-a \{\n\s+proxy_pass http:\/\/app_a;/);
    assert.match(conf, /server_name b\.example;\n\s+location \/ \{\n\s+proxy_pass http:\/\/app_b;/);
    assert.match(conf, /upstream app_a \{ server 127\.0\.0\.1:8081; \}/);
    assert.match(conf, /return 404 "nginx on node-2: no route/);
  });

  it('refuses a node name or directory nginx would read as syntax', () => {
    assert.throws(
      () => nginxConfig({ node: 'node-1; evil', dir: '/run/x', port: 80 }),
      /node name "node-1; evil"/,
    );
    for (const dir of ['relative/dir', '/run/x y', '/run/x;', '/run/"x', '/run/$x', '/run/{x}'])
      assert.throws(
        () => nginxConfig({ node: 'node-1', dir, port: 80 }),
        /is not a plain absolute path/,
        dir,
      );
  });

  it('the report accepts only the right backend, on the owner node when one is given', () => {
    const ok = (body: string): CurlResult => ({ ok: true, status: 200, body, exitCode: 0, ms: 3 });
    assert.equal(wrongAnswer(ok('app-a on node-1'), 'app-a', 'node-1'), undefined);
    assert.equal(wrongAnswer(ok('app-a on node-2'), 'app-a'), undefined);
    assert.equal(wrongAnswer(ok('app-b on node-1'), 'app-a'), 'app-b answered, not app-a');
    assert.equal(wrongAnswer(ok('app-a on node-2'), 'app-a', 'node-1'), 'served on node-2, not on node-1');
    assert.match(wrongAnswer(ok('node-1'), 'app-a') ?? '', /not a backend's answer/);
    assert.equal(
      wrongAnswer({ ok: false, status: 404, body: 'nginx on node-1: no route', exitCode: 0, ms: 1 }, 'app-a'),
      'HTTP 404: nginx on node-1: no route',
    );
    assert.equal(
      wrongAnswer({ ok: false, status: 0, body: '', exitCode: 28, ms: 2000 }, 'app-b'),
      'no answer (curl exit 28)',
    );
  });

  it('the two requests of the story: the path to app-a, the host to app-b, IPv6 in brackets', () => {
    const [byPath, byHost] = ingressRequests('2001:db8:100::41');
    assert.deepEqual(byPath, {
      label: 'curl http://[2001:db8:100::41]/app-a',
      url: 'http://[2001:db8:100::41]/app-a',
      app: APP_A.name,
    });
    assert.deepEqual(byHost, {
      label: "curl -H 'Host: b.example' http://[2001:db8:100::41]/",
      url: 'http://[2001:db8:100::41]/',
      host: APP_B.host,
      app: APP_B.name,
    });
  });
});
