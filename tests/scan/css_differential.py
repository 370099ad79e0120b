"""Differential test of css.c's URL finding against tinycss2 (an independent
CSS Syntax Level 3 tokeniser): random CSS made of nasty fragments, the URLs a
browser would fetch compared one by one. Prints TAP, one line per seed.

Known, deliberate differences are not counted: a url( whose unquoted body has
a backslash before a newline is a bad url per the specification (tinycss2
returns a URL), and @import strings are left out (context, not tokens)."""
import random
import subprocess
import sys

import tinycss2

FRAGMENTS = [
    'url(', 'url("', "url('", ')', '"', "'", '\\', '\\29 ', '\\75 ', 'u\\72l(', '/*', '*/', '{', '}',
    '(', '[', ']', ';', ':', ' ', '\n', '\r\n', '\t', 'a', 'b', 'x.png', 'image-set(', 'src("', 'src(',
    '-', '#', '@media', '@import', '\u00e9', '\\\n', ',', 'URL(', 'url( ', '1x', '--', 'e\\', '\\"', '0',
    '%', '!important', 'background:', '<!--', '-->', '\\a ', '\\0',
]


def reference(css):
    out = []

    def walk(tokens, in_image_set=False):
        for t in tokens:
            if t.type == 'url':
                out.append(t.value)
            elif t.type == 'function':
                name = t.lower_name
                if name in ('url', 'src'):
                    raw = t.arguments
                    args = [a for a in raw if a.type not in ('whitespace', 'comment')
                            and not (a.type == 'error' and a.kind.startswith('eof'))]
                    first = next((a for a in raw if a.type != 'whitespace'), None)
                    if first is not None and first.type == 'string':
                        if len(args) == 1:
                            out.append(first.value)
                        continue
                    if first is not None and first.type == 'error' and first.kind == 'bad-string':
                        continue
                    if name == 'url':
                        continue
                walk(t.arguments, name in ('image-set', '-webkit-image-set', 'image'))
            elif t.type in ('() block', '[] block', '{} block'):
                walk(t.content)
            elif t.type == 'string' and in_image_set:
                out.append(t.value)

    walk(tinycss2.parse_component_value_list(css, skip_comments=False))
    return out


def main():
    tool, seeds, per_seed = sys.argv[1], [1, 2, 3, 4, 5], 2000
    print('1..%d' % len(seeds))
    failed = 0
    for n, seed in enumerate(seeds, 1):
        rng = random.Random(seed)
        cases = [''.join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 25)))
                 for _ in range(per_seed)]
        framed = b''.join(b'%d\n' % len(c.encode()) + c.encode() for c in cases)
        run = subprocess.run([tool], input=framed, capture_output=True)
        if run.returncode != 0:
            print('not ok %d - seed %d: tool exited %d: %s' % (n, seed, run.returncode,
                                                            run.stderr.decode()[:300]))
            failed += 1
            continue
        blocks = run.stdout.decode().split('--\n')
        bad = []
        for i, css in enumerate(cases):
            mine = [bytes.fromhex(h).decode('utf-8', 'replace') for h in blocks[i].splitlines()]
            ref = reference(css)
            if ref != mine and not any('\\' in r for r in ref):
                bad.append((css, ref, mine))
        if bad:
            failed += 1
            print('not ok %d - seed %d: %d of %d differ' % (n, seed, len(bad), per_seed))
            for css, ref, mine in bad[:5]:
                print('# %r\n#   tinycss2 %r\n#   css.c    %r' % (css, ref, mine))
        else:
            print('ok %d - seed %d: %d inputs agree with tinycss2' % (n, seed, per_seed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
