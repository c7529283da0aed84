/** The watch wire protocol: JSON lines over a chunked response (plain objects or Tables). */
import type { ServerResponse } from 'node:http';
import type { Context } from './context.ts';
import { ApiError, badRequest } from './errors.ts';
import { columnDefinitions, type IncludeObject, tableRow } from './table.ts';
import { apiVersionOf, type KubeObject, type ResourceType, storageKey } from './types.ts';

/** Unsent bytes after which a watcher counts as stuck and its stream is ended. */
const SLOW_WATCHER_BYTES = 16 * 1024 * 1024;

/**
 * A watch stream: JSON lines of {type, object}. Without a resourceVersion (or with "0") the
 * current state is sent first as ADDED; with one, the kept history after it is replayed; a
 * version older than the history gets an ERROR event carrying a 410 Status, then the end.
 */
export function watch(
  ctx: Context,
  t: ResourceType,
  namespace: string | undefined,
  filter: (obj: KubeObject) => boolean,
  q: URLSearchParams,
  res: ServerResponse,
  tableInclude: IncludeObject | undefined,
): number {
  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Transfer-Encoding': 'chunked',
    'Cache-Control': 'no-cache',
  });
  res.flushHeaders();
  let first = true;
  const timers: NodeJS.Timeout[] = [];
  let unsubscribe = () => {};
  const finish = () => {
    unsubscribe();
    for (const timer of timers) clearTimeout(timer);
    if (!res.writableEnded) res.end();
  };
  const write = (type: string, obj: KubeObject) => {
    if (res.writableEnded) return;
    let object: unknown = { ...obj, apiVersion: apiVersionOf(t), kind: t.kind };
    if (tableInclude && type !== 'ERROR' && type !== 'BOOKMARK') {
      object = {
        kind: 'Table',
        apiVersion: 'meta.k8s.io/v1',
        metadata: { resourceVersion: obj.metadata.resourceVersion },
        columnDefinitions: first ? columnDefinitions(t) : null,
        rows: [tableRow(t, object as KubeObject, tableInclude, Date.now())],
      };
      first = false;
    }
    if (type === 'ERROR') object = obj;
    res.write(`${JSON.stringify({ type, object })}\n`);
    // A watcher that stopped reading would make us buffer without bound; like the real
    // server's watch cache we drop it instead, and the client re-watches from its version.
    if (res.writableLength > SLOW_WATCHER_BYTES) finish();
  };
  const rvParam = q.get('resourceVersion') ?? '';
  const bookmarks = q.get('allowWatchBookmarks') === 'true';
  const sendInitial = q.get('sendInitialEvents') === 'true';
  let from: number;
  if (rvParam === '' || rvParam === '0' || sendInitial) {
    const list = ctx.store.list(t, namespace, filter, undefined, undefined, () => false);
    for (const obj of list.items) write('ADDED', obj);
    from = ctx.store.resourceVersion;
    if (sendInitial && bookmarks) {
      write('BOOKMARK', {
        kind: t.kind,
        apiVersion: apiVersionOf(t),
        metadata: { resourceVersion: String(from), annotations: { 'k8s.io/initial-events-end': 'true' } },
      });
    }
  } else {
    from = Number(rvParam);
    if (!Number.isInteger(from) || from < 0) {
      write('ERROR', badRequest(`invalid resourceVersion "${rvParam}"`).toStatus() as unknown as KubeObject);
      res.end();
      return 200;
    }
  }

  try {
    unsubscribe = ctx.store.hub.subscribe(
      {
        key: storageKey(t),
        namespace,
        matches: filter,
        send: (type, obj) => write(type, ctx.store.out(t, obj)),
        cut: finish,
      },
      from,
    );
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    write('ERROR', error.toStatus() as unknown as KubeObject);
    res.end();
    return 200;
  }
  if (bookmarks) {
    const tick = () => {
      write('BOOKMARK', {
        kind: t.kind,
        apiVersion: apiVersionOf(t),
        metadata: { resourceVersion: String(ctx.store.resourceVersion) },
      });
      timers[0] = setTimeout(tick, ctx.bookmarkIntervalMs);
    };
    timers[0] = setTimeout(tick, ctx.bookmarkIntervalMs);
  }
  const timeoutSeconds = Number(q.get('timeoutSeconds') ?? '0');
  if (timeoutSeconds > 0) timers[1] = setTimeout(finish, timeoutSeconds * 1000);
  res.on('close', finish);
  return 200;
}
