import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Env } from '../../shared/config.ts';

/**
 * s.yaml as Serverless Devs 3 hands it to the fc3 component, and the README's deploy commands:
 * what a newcomer's `npm run deploy` really deploys, resolved offline.
 *
 * Magic variables are resolved the way `@serverless-devs/art-template` 4.13 (`lib/devs-compile.js`,
 * the compiler `@serverless-devs/parse-spec` uses) does: `${env('X', 'd')}` is the shell's X when it is
 * non-empty, else `d` (so an exported `X=''` also gives the default); `${env('X')}` with X unset or
 * empty fails the deploy ("env('X') not found"); `${vars.a.b}` reads the resolved `vars`; a result
 * that still holds `${…}` is resolved again; a key whose value resolves to null/undefined is dropped
 * (parse-spec's getInputs). The text between `${` and the first `}` is a JavaScript expression there,
 * so calls nest and their arguments are evaluated first: `${env('A', env('B', ''))}` is A, else B,
 * else '', and `${env('A', env('B'))}` fails without B even when A is set; a default of `vars.x` that
 * is undefined fails like no default (devs-compile's `isNil`). YAML anchors, aliases and merge keys
 * (`<<:`, which js-yaml's default schema, the loader of `@serverless-devs/utils`, expands) are
 * expanded by the YAML parser. Any other expression throws, so s.yaml cannot start using one this
 * resolver does not model.
 */

export const S_YAML_TEXT = readFileSync(new URL('../../s.yaml', import.meta.url), 'utf8');
export const README_TEXT = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

export interface FcTrigger {
  triggerName: string;
  triggerType: string;
  triggerConfig: Record<string, unknown>;
}

/** The props of one fc3 resource, as far as the tests read them (the schema test checks all of them). */
export interface FcProps {
  region: string;
  functionName: string;
  runtime: string;
  code: string;
  handler: string;
  memorySize: number;
  timeout: number;
  role: string;
  environmentVariables: Record<string, string>;
  triggers: FcTrigger[];
  [key: string]: unknown;
}

export interface ResolvedSpec {
  edition: string;
  name: string;
  access: string;
  vars: Record<string, unknown>;
  resources: Record<string, { component: string; props: FcProps }>;
}

const WHOLE = /^\$\{([^{}]*)\}$/;
const ANY = /\$\{([^{}]*)\}/g;
/** One token of an expression: a quoted string, a name path (`env`, `vars.a.b`), or punctuation. */
const TOKEN = /\s*(?:(['"])([^'"]*)\1|([A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*)|([(),]))/y;

type Token = { kind: 'string' | 'name' | 'punct'; text: string };

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expression.trimEnd().length) {
    const at = TOKEN.lastIndex;
    const match = TOKEN.exec(expression);
    if (!match) throw new Error(`s.yaml uses \${${expression}}, which this resolver does not model (at ${at})`);
    if (match[1] !== undefined) tokens.push({ kind: 'string', text: match[2] ?? '' });
    else if (match[3] !== undefined) tokens.push({ kind: 'name', text: match[3] });
    else tokens.push({ kind: 'punct', text: match[4] ?? '' });
  }
  return tokens;
}

/** Evaluates `'text'`, `vars.a.b` and `env(expr[, expr])` (arguments first, as JavaScript does). */
function evaluate(expression: string, shell: Env, vars: Record<string, unknown>): unknown {
  const tokens = tokenize(expression);
  let i = 0;
  const unmodelled = () => new Error(`s.yaml uses \${${expression.trim()}}, which this resolver does not model`);
  const expect = (text: string) => {
    if (tokens[i]?.text !== text || tokens[i]?.kind !== 'punct') throw unmodelled();
    i++;
  };
  function value(): unknown {
    const token = tokens[i++];
    if (!token) throw unmodelled();
    if (token.kind === 'string') return token.text;
    if (token.kind === 'name' && token.text === 'env') {
      expect('(');
      const args = [value()];
      if (tokens[i]?.text === ',') {
        i++;
        args.push(value());
      }
      expect(')');
      const [name, fallback] = args;
      if (typeof name !== 'string') throw unmodelled();
      const found = shell[name];
      if (found) return found;
      if (fallback !== undefined && fallback !== null) return fallback;
      throw new Error(`env('${name}') not found`);
    }
    if (token.kind === 'name' && token.text.startsWith('vars.')) {
      let found: unknown = vars;
      for (const key of token.text.split('.').slice(1)) {
        found = typeof found === 'object' && found !== null ? (found as Record<string, unknown>)[key] : undefined;
      }
      return found;
    }
    throw unmodelled();
  }
  const result = value();
  if (i !== tokens.length) throw unmodelled();
  return result;
}

function resolveString(value: string, shell: Env, vars: Record<string, unknown>, depth = 0): unknown {
  if (depth > 8) throw new Error(`magic variables nest too deep in ${value}`);
  const whole = WHOLE.exec(value);
  const result = whole
    ? evaluate(whole[1] ?? '', shell, vars)
    : value.replace(ANY, (_, expression: string) => String(evaluate(expression, shell, vars)));
  return typeof result === 'string' && /\$\{[^{}]*\}/.test(result)
    ? resolveString(result, shell, vars, depth + 1)
    : result;
}

function resolveTree(value: unknown, shell: Env, vars: Record<string, unknown>): unknown {
  if (typeof value === 'string') return resolveString(value, shell, vars);
  if (Array.isArray(value)) return value.map((item) => resolveTree(item, shell, vars));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const resolved = resolveTree(item, shell, vars);
      if (resolved !== undefined && resolved !== null) out[key] = resolved;
    }
    return out;
  }
  return value;
}

/** s.yaml with every magic variable resolved against the deploying shell's environment `shell`. */
export function resolveSpec(shell: Env, text: string = S_YAML_TEXT): ResolvedSpec {
  const raw = parse(text, { merge: true }) as Record<string, unknown>;
  const { resources, ...rest } = raw;
  // parse-spec resolves everything but `resources` first (vars included), then each resource
  // against the resolved vars.
  const top = resolveTree(rest, shell, (rest.vars ?? {}) as Record<string, unknown>) as Omit<ResolvedSpec, 'resources'>;
  return { ...top, resources: resolveTree(resources, shell, top.vars ?? {}) as ResolvedSpec['resources'] };
}

/**
 * The variables the README's deploy commands export (the first `sh` block of "## Deploying"), in
 * order: `export A=1 B='two words'  C="three"` lines; a `#` outside quotes starts a comment.
 */
export function readmeDeployExports(readme: string = README_TEXT): Record<string, string> {
  const section = /^## Deploying\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
  if (!section) throw new Error('README has no "## Deploying" section');
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README\'s "## Deploying" section has no sh code block');
  const exports: Record<string, string> = {};
  for (const line of block.split('\n')) {
    const match = /^\s*export\s+(.*)$/.exec(line);
    if (!match) continue;
    let rest = match[1] ?? '';
    for (;;) {
      rest = rest.trimStart();
      if (rest === '' || rest.startsWith('#')) break;
      const assignment = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(rest);
      if (!assignment) throw new Error(`cannot read the README export "${line.trim()}"`);
      const name = assignment[1] as string;
      rest = rest.slice(assignment[0].length);
      let value: string;
      const quote = rest[0];
      if (quote === "'" || quote === '"') {
        const end = rest.indexOf(quote, 1);
        if (end === -1) throw new Error(`unterminated quote in the README export "${line.trim()}"`);
        value = rest.slice(1, end);
        rest = rest.slice(end + 1);
      } else {
        const end = rest.search(/\s/);
        value = end === -1 ? rest : rest.slice(0, end);
        rest = end === -1 ? '' : rest.slice(end);
      }
      exports[name] = value;
    }
  }
  return exports;
}

/** A value the reader is meant to replace: `…`, or a `<placeholder>` inside it. */
export const isPlaceholder = (value: string): boolean => value.includes('…') || /<[a-z][a-z0-9-]*>/.test(value);

/**
 * What Function Compute 3.0 itself sets in a function's environment (built-in runtimes; FC docs,
 * "Configure environment variables", system environment variables): the role's STS credentials and
 * the FC_* variables. FC_CUSTOM_LISTEN_PORT is for custom runtimes only and left out.
 */
export function fcSystemEnv(
  props: FcProps,
  options: { accountId: string; credentials: { accessKeyId: string; accessKeySecret: string; securityToken: string } },
): Env {
  return {
    FC_FUNC_CODE_PATH: '/code',
    FC_ACCOUNT_ID: options.accountId,
    FC_FUNCTION_HANDLER: props.handler,
    FC_FUNCTION_MEMORY_SIZE: String(props.memorySize),
    FC_FUNCTION_NAME: props.functionName,
    FC_REGION: props.region,
    FC_INSTANCE_ID: `c-${props.functionName.slice(0, 8)}-6561c2a40f1e2d3c`,
    // FC_VER_ID instead on runtimes of Debian 10 and earlier.
    FC_FUNCTION_VERSION: 'LATEST',
    ALIBABA_CLOUD_ACCESS_KEY_ID: options.credentials.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: options.credentials.accessKeySecret,
    ALIBABA_CLOUD_SECURITY_TOKEN: options.credentials.securityToken,
  };
}
