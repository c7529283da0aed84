/**
 * node:http, taken without an ES module facade. `import ... from 'node:http'` makes Node build
 * the module's ESM namespace, which reads every export, and node:http's lazy WebSocket,
 * CloseEvent and MessageEvent getters then load Node's bundled undici: heap for a daemon that
 * never opens a WebSocket (bin/speaker-imports.test.ts keeps undici out).
 * getBuiltinModule returns the CommonJS exports, whose getters stay untouched.
 */
export const http = process.getBuiltinModule('node:http');
