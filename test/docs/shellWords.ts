/**
 * A small shell reader for the commands in docs and workflows: enough of POSIX sh to split a script into simple
 * commands, follow quoting, and resolve the variables a script defines itself (assignments, a step's env, simple
 * `${var%%pattern}`-style trims, `$(…)` of a function or `pulumi stack output`). Anything it cannot resolve stays
 * marked as unresolved, so a check can say so instead of guessing.
 */

/** One word of a simple command after expansion. */
export interface Word {
  /** The value; unresolved expansions are kept as written (e.g. `$PGHOST`). */
  readonly text: string;
  /** The expansions that could not be resolved, as written. Empty: `text` is exact. */
  readonly unresolved: readonly string[];
}

export interface SimpleCommand {
  readonly words: readonly Word[];
  /** `NAME=value` words before the command: its own environment. */
  readonly env: Readonly<Record<string, Word>>;
  /** The command as written (after joining continuation lines). */
  readonly source: string;
}

/** Resolves `$(…)`: given the words of the inner command, its output, or undefined when unknown. */
export type CommandResolver = (words: readonly Word[]) => string | undefined;

type Part = { readonly lit: string } | { readonly param: string; readonly raw: string } | { readonly sub: string; readonly raw: string };
type Token = { readonly op: string } | { readonly word: Part[]; readonly raw: string };

const OPERATORS = ["&&", "||", ";;", ">>", "2>&1", "&>", ";", "|", "&", "\n", "(", ")", ">", "<"];
const KEYWORDS = new Set(["if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "time"]);

/** The index just past the `)` that closes a `$(` opened before `from`. */
function closeParen(s: string, from: number): number {
  let depth = 1;
  let quote = "";
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = "";
      else if (c === "\\" && quote === '"') i++;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === "\\") i++;
    else if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return i + 1;
  }
  return s.length;
}

/**
 * A doc placeholder such as `<name>` or `<yugabyte ns>` at `i`: a `<` directly followed by a letter and closed on the
 * same line. Docs use these for values the reader fills in; a redirection is `< file` or `>`, never this shape.
 */
function placeholderAt(s: string, i: number): string | undefined {
  return s[i] === "<" ? /^<[A-Za-z][^<>\n]*>/.exec(s.slice(i))?.[0] : undefined;
}

/** Split shell text into words and operators, keeping quoting and expansions apart. */
export function tokenize(script: string): Token[] {
  const s = script.replace(/\\\n/g, " ");
  const tokens: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === " " || c === "\t") { i++; continue; }
    if (c === "#") { while (i < s.length && s[i] !== "\n") i++; continue; }
    const op = placeholderAt(s, i) === undefined ? OPERATORS.find((o) => s.startsWith(o, i)) : undefined;
    if (op !== undefined) { tokens.push({ op }); i += op.length; continue; }
    const parts: Part[] = [];
    const start = i;
    let lit = "";
    const flush = () => { if (lit) parts.push({ lit }); lit = ""; };
    const dollar = (): void => {
      if (s.startsWith("$(", i) && !s.startsWith("$((", i)) {
        const end = closeParen(s, i + 2);
        flush();
        parts.push({ sub: s.slice(i + 2, end - 1), raw: s.slice(i, end) });
        i = end;
      } else if (s.startsWith("${", i) && !s.startsWith("${{", i)) {
        const end = s.indexOf("}", i);
        flush();
        parts.push({ param: s.slice(i + 2, end), raw: s.slice(i, end + 1) });
        i = end + 1;
      } else {
        const m = /^\$([A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!])/.exec(s.slice(i));
        if (m) { flush(); parts.push({ param: m[1], raw: m[0] }); i += m[0].length; } else { lit += "$"; i++; }
      }
    };
    while (i < s.length) {
      const ch = s[i];
      const placeholder = placeholderAt(s, i);
      if (placeholder !== undefined) { lit += placeholder; i += placeholder.length; continue; }
      if (ch === " " || ch === "\t" || OPERATORS.some((o) => s.startsWith(o, i))) break;
      if (ch === "'") {
        const end = s.indexOf("'", i + 1);
        lit += s.slice(i + 1, end < 0 ? s.length : end);
        i = end < 0 ? s.length : end + 1;
      } else if (ch === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === "\\" && i + 1 < s.length && '"\\$`'.includes(s[i + 1])) { lit += s[i + 1]; i += 2; }
          else if (s[i] === "$") dollar();
          else { lit += s[i]; i++; }
        }
        i++;
      } else if (ch === "\\") {
        lit += s[i + 1] ?? "";
        i += 2;
      } else if (ch === "$") {
        dollar();
      } else {
        lit += ch;
        i++;
      }
    }
    flush();
    tokens.push({ word: parts, raw: s.slice(start, i) });
  }
  return tokens;
}

/** A shell glob (`*`, `?`) as a whole-string regex. */
function globRegex(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "s");
}

/** `${name}`, `${name:-default}` and the trims `%%` / `%` (longest / shortest suffix), `##` / `#` (prefix). */
function expandParam(expr: string, vars: ReadonlyMap<string, string>): string | undefined {
  const m = /^([A-Za-z_][A-Za-z0-9_]*|[0-9])(?:(%%|%|##|#|:-)(.*))?$/.exec(expr);
  if (!m) return undefined;
  const value = vars.get(m[1]);
  const [, , op, arg] = m;
  if (op === ":-") return value === undefined || value === "" ? arg : value;
  if (value === undefined || op === undefined) return value;
  const re = globRegex(arg);
  const n = value.length;
  const order = (longest: boolean) => (longest ? [...Array(n + 1).keys()] : [...Array(n + 1).keys()].reverse());
  if (op === "%%" || op === "%") {
    for (const i of order(op === "%%")) if (re.test(value.slice(i))) return value.slice(0, i);
  } else {
    for (const i of order(op === "#")) if (re.test(value.slice(0, i))) return value.slice(i);
  }
  return value;
}

/** A shell function defined in the script: its body, evaluated with `$1`… bound at each call. */
interface ShellFunction {
  readonly body: string;
}

export interface ShellScope {
  readonly vars: Map<string, string>;
  readonly functions: Map<string, ShellFunction>;
}

export function newScope(env: Readonly<Record<string, string>> = {}): ShellScope {
  return { vars: new Map(Object.entries(env)), functions: new Map() };
}

function expandWord(parts: readonly Part[], scope: ShellScope, resolve: CommandResolver): Word {
  let text = "";
  const unresolved: string[] = [];
  for (const p of parts) {
    if ("lit" in p) text += p.lit;
    else if ("param" in p) {
      const v = expandParam(p.param, scope.vars);
      if (v === undefined) { text += p.raw; unresolved.push(p.raw); } else text += v;
    } else {
      const inner = commandsOf(p.sub, scope, resolve);
      const out = inner.length === 1 ? callOrResolve(inner[0].words, scope, resolve) : undefined;
      if (out === undefined) { text += p.raw; unresolved.push(p.raw); } else text += out;
    }
  }
  return { text, unresolved };
}

/** The output of a command substitution: a function of the script (inlined), or whatever `resolve` knows. */
function callOrResolve(words: readonly Word[], scope: ShellScope, resolve: CommandResolver): string | undefined {
  if (words.length === 0) return undefined;
  const fn = scope.functions.get(words[0].text);
  // The resolver decides which unresolved words matter to it (`--stack "$STACK"` does not: the stack is known).
  if (!fn) return resolve(words);
  if (words.some((w) => w.unresolved.length > 0)) return undefined;
  const local: ShellScope = { vars: new Map(scope.vars), functions: scope.functions };
  words.slice(1).forEach((w, i) => local.vars.set(String(i + 1), w.text));
  const body = commandsOf(fn.body, local, resolve);
  return body.length === 1 ? callOrResolve(body[0].words, local, resolve) : undefined;
}

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=/;

/**
 * The simple commands of a script, in order, each with its words expanded in `scope`. Assignments update the scope
 * (and are not returned); function definitions are recorded; `$(…)` contents are also returned as commands of their
 * own (they run too). Control keywords are dropped; a `for` loop's header is skipped.
 */
export function commandsOf(script: string, scope: ShellScope, resolve: CommandResolver): SimpleCommand[] {
  const tokens = tokenize(script);
  const out: SimpleCommand[] = [];
  let current: { parts: Part[]; raw: string }[] = [];
  const end = (): void => {
    let words = current;
    current = [];
    while (words.length > 0 && KEYWORDS.has(words[0].raw)) words = words.slice(1);
    if (words.length === 0) return;
    if (words[0].raw === "for" || words[0].raw === "case") return;
    const prefix = words[0].raw === "export" || words[0].raw === "local" ? 1 : 0;
    const isAssignment = words.slice(prefix).every((w) => ASSIGNMENT.test(w.raw));
    for (const w of words) {
      for (const p of w.parts) if ("sub" in p) out.push(...commandsOf(p.sub, scope, resolve));
    }
    if (isAssignment && words.length > prefix) {
      for (const w of words.slice(prefix)) {
        const name = ASSIGNMENT.exec(w.raw)![1];
        const value = expandWord(stripName(w.parts, name), scope, resolve);
        if (value.unresolved.length === 0) scope.vars.set(name, value.text);
        else scope.vars.delete(name);
      }
      return;
    }
    // Leading VAR=value words only set the command's environment.
    const lead = words.findIndex((w) => !ASSIGNMENT.test(w.raw));
    const rest = lead < 0 ? [] : words.slice(lead);
    const env = Object.fromEntries(words.slice(0, Math.max(lead, 0)).map((w) => {
      const name = ASSIGNMENT.exec(w.raw)![1];
      return [name, expandWord(stripName(w.parts, name), scope, resolve)];
    }));
    if (rest.length > 0) out.push({ words: rest.map((w) => expandWord(w.parts, scope, resolve)), env, source: rest.map((w) => w.raw).join(" ") });
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if ("op" in t) {
      // name() { body; }
      if (t.op === "(" && current.length === 1 && "op" in (tokens[i + 1] ?? {}) && (tokens[i + 1] as { op: string }).op === ")") {
        const name = current[0].raw;
        const open = tokens.findIndex((x, j) => j > i + 1 && "word" in x && x.raw === "{");
        const close = tokens.findIndex((x, j) => j > open && "word" in x && x.raw === "}");
        if (open > 0 && close > open) {
          const body = tokens.slice(open + 1, close).map((x) => ("op" in x ? (x.op === "\n" ? ";" : ` ${x.op} `) : x.raw)).join(" ");
          scope.functions.set(name, { body });
          current = [];
          i = close;
          continue;
        }
      }
      if (t.op === ">" || t.op === ">>" || t.op === "<" || t.op === "&>") { i++; continue; }
      end();
      continue;
    }
    current.push({ parts: t.word, raw: t.raw });
  }
  end();
  return out;
}

/** The parts of `name=value` after the `name=`. */
function stripName(parts: readonly Part[], name: string): Part[] {
  const [first, ...rest] = parts;
  if (first && "lit" in first) return [{ lit: first.lit.slice(name.length + 1) }, ...rest];
  return rest;
}
