import { cpSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';

/**
 * Just enough of Docker's build semantics to check deploy/Dockerfile without a Docker
 * engine: the instructions (continuation lines, JSON and shell forms, flags, ARG defaults
 * substituted in FROM), the .dockerignore rules, and COPY from the context or an earlier
 * stage into a directory standing for the stage's WORKDIR.
 */

/** One instruction, continuation lines joined. */
export interface Instruction {
  keyword: string;
  /** The text after the keyword, flags included. */
  raw: string;
  /** `--name=value` flags at the start of the arguments. */
  flags: Record<string, string>;
  /** Arguments after the flags: the JSON array's items, or the words of the shell form. */
  args: string[];
  line: number;
}

/** One build stage. */
export interface Stage {
  /** `AS name`, or the stage's index as a string. */
  name: string;
  /** The base image with ARG defaults substituted. */
  image: string;
  instructions: Instruction[];
}

/** A Dockerfile that cannot be understood, with the line. */
export class DockerfileError extends Error {
  constructor(line: number, message: string) {
    super(`Dockerfile line ${line}: ${message}`);
    this.name = 'DockerfileError';
  }
}

/** Splits a Dockerfile into instructions (comments and the parser directive dropped). */
export function parseInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i] ?? '';
    if (/^\s*(#.*)?$/.test(line)) continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      i++;
      const next = lines[i] ?? '';
      // Comment lines inside a continuation are dropped, as Docker does.
      if (/^\s*#/.test(next)) continue;
      line = `${line.replace(/\\\s*$/, '')} ${next.trim()}`;
    }
    const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(line);
    if (!m) throw new DockerfileError(start + 1, `cannot parse "${line}"`);
    const keyword = m[1]!.toUpperCase();
    const raw = m[2]!.trim();
    const flags: Record<string, string> = {};
    let rest = raw;
    for (;;) {
      const f = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest);
      if (!f) break;
      flags[f[1]!] = f[2] ?? 'true';
      rest = rest.slice(f[0].length);
    }
    let args: string[];
    if (rest.startsWith('[')) {
      try {
        args = JSON.parse(rest) as string[];
      } catch {
        throw new DockerfileError(start + 1, `${keyword}: invalid JSON array ${rest}`);
      }
    } else {
      args = rest.split(/\s+/).filter((a) => a !== '');
    }
    out.push({ keyword, raw, flags, args, line: start + 1 });
  }
  return out;
}

/** Substitutes `${NAME}` / `$NAME` from ARG defaults. */
function substitute(text: string, args: Map<string, string>, line: number): string {
  return text.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, name: string) => {
    const value = args.get(name);
    if (value === undefined) throw new DockerfileError(line, `\${${name}} has no ARG default`);
    return value;
  });
}

/** The build stages, with ARGs declared before the first FROM substituted in FROM lines. */
export function parseStages(text: string): Stage[] {
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const ins of parseInstructions(text)) {
    if (ins.keyword === 'FROM') {
      const [image, as, name] = ins.args;
      if (!image) throw new DockerfileError(ins.line, 'FROM without an image');
      if (as !== undefined && (as.toUpperCase() !== 'AS' || !name)) {
        throw new DockerfileError(ins.line, `FROM ${ins.raw}: expected "FROM image AS name"`);
      }
      stages.push({
        name: name ?? String(stages.length),
        image: substitute(image, globalArgs, ins.line),
        instructions: [],
      });
    } else if (stages.length === 0) {
      if (ins.keyword !== 'ARG') throw new DockerfileError(ins.line, `${ins.keyword} before the first FROM`);
      const [name, value] = (ins.args[0] ?? '').split('=', 2);
      if (name && value !== undefined) globalArgs.set(name, value);
    } else {
      stages.at(-1)!.instructions.push(ins);
    }
  }
  return stages;
}

/**
 * A .dockerignore pattern as a regular expression: Go's filepath.Match plus `**` (any number
 * of directories). Unlike shell globs, `*` matches names starting with a dot.
 */
function patternRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      re += '.*';
      i++;
      if (pattern[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * .dockerignore rules: patterns in order, the last one matching a path (or one of its parent
 * directories) decides; `!` re-includes.
 */
export function ignoreFilter(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => ({
      include: l.startsWith('!'),
      pattern: patternRegExp(posix.normalize(l.replace(/^!/, '')).replace(/\/$/, '')),
    }));
  return (path: string): boolean => {
    const parts = path.split('/');
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let ignored = false;
    for (const rule of rules) {
      if (prefixes.some((p) => rule.pattern.test(p))) ignored = !rule.include;
    }
    return ignored;
  };
}

/** Every file under `dir` (relative paths, posix). */
function walk(dir: string, base = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, base)).sort()) {
    const rel = base === '' ? name : `${base}/${name}`;
    if (statSync(join(dir, rel)).isDirectory()) out.push(...walk(dir, rel));
    else out.push(rel);
  }
  return out;
}

/**
 * Carries out one COPY into `stageDir` (the stage's WORKDIR `workdir`): from the build
 * context (filtered by `ignored`) or, with --from, from another stage's directory, whose
 * WORKDIR is given. Returns the files written (relative to stageDir).
 */
export function emulateCopy(
  ins: Instruction,
  target: { dir: string; workdir: string },
  source: { dir: string; workdir: string; ignored?: (path: string) => boolean },
): string[] {
  const sources = ins.args.slice(0, -1);
  const dest = ins.args.at(-1);
  if (!dest || sources.length === 0)
    throw new DockerfileError(ins.line, 'COPY needs a source and a destination');
  if (sources.length > 1 && !dest.endsWith('/')) {
    throw new DockerfileError(ins.line, 'COPY with several sources needs a destination ending in /');
  }
  const destPath = posix.relative(target.workdir, posix.resolve(target.workdir, dest));
  if (destPath.startsWith('..')) throw new DockerfileError(ins.line, `COPY outside WORKDIR: ${dest}`);
  const written: string[] = [];
  for (const src of sources) {
    const rel = posix.relative(source.workdir, posix.resolve(source.workdir, src.replace(/\/$/, '')));
    if (rel.startsWith('..'))
      throw new DockerfileError(ins.line, `COPY source outside the stage's WORKDIR: ${src}`);
    const abs = join(source.dir, rel);
    if (!existsSync(abs) || (source.ignored?.(rel) ?? false)) {
      throw new DockerfileError(
        ins.line,
        `COPY source ${src} is not in the ${ins.flags.from ? 'stage' : 'context'}`,
      );
    }
    const files = statSync(abs).isDirectory()
      ? walk(abs).map((f) => ({ from: `${rel}/${f}`, to: posix.join(destPath, f) }))
      : [{ from: rel, to: dest.endsWith('/') ? posix.join(destPath, posix.basename(rel)) : destPath }];
    const kept = files.filter((f) => !(source.ignored?.(f.from) ?? false));
    if (kept.length === 0) throw new DockerfileError(ins.line, `COPY ${src}: every file is ignored`);
    for (const f of kept) {
      mkdirSync(dirname(join(target.dir, f.to)), { recursive: true });
      cpSync(join(source.dir, f.from), join(target.dir, f.to), { verbatimSymlinks: true });
      written.push(f.to);
    }
  }
  return written;
}
