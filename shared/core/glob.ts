/** A compiled `*`-glob: `test` tells whether a whole value matches. */
export interface GlobMatcher {
  test(value: string): boolean;
}

/**
 * `*`-globs (ALLOWED_INSTANCES) matched without a regular expression. As a regex (`^es-.*-.*-x$`)
 * a glob with several stars backtracks polynomially in their number on a value that does not
 * match, and the value is an instance ID the sender chose: nine stars took over a second on one
 * 66-character ID. Here `*` matches any run of characters and everything else is literal; the
 * literal pieces between stars are found left to right, each at its first place (with `*` as the
 * only wildcard the first place is never worse than a later one), so one test costs at most the
 * value's length times the glob's.
 */
export function compileGlob(glob: string): GlobMatcher {
  const pieces = glob.split('*');
  if (pieces.length === 1) return { test: (value) => value === glob };
  const head = pieces[0] as string;
  const tail = pieces[pieces.length - 1] as string;
  const middle = pieces.slice(1, -1).filter((piece) => piece !== '');
  return {
    test(value) {
      if (value.length < head.length + tail.length || !value.startsWith(head) || !value.endsWith(tail)) return false;
      const end = value.length - tail.length;
      let from = head.length;
      for (const piece of middle) {
        const at = value.indexOf(piece, from);
        if (at < 0 || at + piece.length > end) return false;
        from = at + piece.length;
      }
      return true;
    },
  };
}
