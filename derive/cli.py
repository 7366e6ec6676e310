"""The command line: ``derive <verb> SPEC …``.

Exit codes: 0 success, 1 a check failed, 2 bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import check as checking
from .derivation import FORMS, derive
from .errors import DeriveError
from .latex import latex
from .spec import load


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        raise DeriveError(f"{self.prog}: {message}")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="derive", description="Backpropagation derived, checked and written out.")
    verbs = parser.add_subparsers(dest="verb", required=True, parser_class=_Parser)
    grad = verbs.add_parser("grad", help="print one parameter's gradient ∂C/∂w")
    grad.add_argument("spec", help="network spec (TOML)")
    grad.add_argument("param", help="parameter name, such as W2[1,1] or b1[2]")
    grad.add_argument("--latex", action="store_true", help="print LaTeX in the spec's notation")
    grad.add_argument("--form", choices=FORMS, default="auto", help="which form of the gradient")
    chk = verbs.add_parser("check", help="check every gradient symbolically and numerically")
    chk.add_argument("spec", help="network spec (TOML)")
    chk.add_argument("--points", type=int, default=3, help="random points for finite differences")
    chk.add_argument("--seed", type=int, default=0, help="seed of the random points")
    chk.add_argument("--no-symbolic", action="store_true", help="skip sympy's direct differentiation")
    chk.add_argument("--no-torch", action="store_true", help="skip torch autograd even when torch is installed")
    ren = verbs.add_parser("render", help="write the derivation as Markdown, LaTeX and HTML (and PDF)")
    ren.add_argument("spec", nargs="+", help="network spec(s) (TOML)")
    ren.add_argument("-o", "--output", required=True, help="output directory")
    ren.add_argument("--format", default="md,tex,html", help="comma-separated: md, tex, html, pdf")
    ren.add_argument("--lang", default="en", help="comma-separated: en, zh")
    ren.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    ver = verbs.add_parser("verify", help="say whether a hand-written formula is right, and why not")
    ver.add_argument("spec", help="network spec (TOML)")
    ver.add_argument("items", nargs="*", metavar="[PARAM] FORMULA", help="what the formula is for, and the formula")
    ver.add_argument("--file", help="a TOML or Markdown list of formulas to verify")
    ver.add_argument("--lang", default="en", help="en or zh")
    gen = verbs.add_parser("codegen", help="write the gradients as a NumPy module, or a pytest file for your function")
    gen.add_argument("spec", help="network spec (TOML)")
    gen.add_argument("-o", "--output", help="file to write (default: standard output)")
    gen.add_argument("--pytest", action="store_true", help="write a pytest file testing --function")
    gen.add_argument("--function", help="your gradients function, as module.path:name (with --pytest)")
    return parser


def _list(option: str, text: str, allowed: Sequence[str]) -> list[str]:
    items = [item.strip() for item in text.split(",") if item.strip()]
    for item in items:
        if item not in allowed:
            raise DeriveError(f"{option}: unknown value {item!r}; choose from {', '.join(allowed)}")
    if not items:
        raise DeriveError(f"{option}: give at least one of {', '.join(allowed)}")
    return items


def _render(args: argparse.Namespace) -> int:
    from pathlib import Path

    from . import render

    formats = _list("--format", args.format, (*render.FORMATS, "pdf"))
    langs = _list("--lang", args.lang, render.LANGS)
    nets = [load(spec) for spec in args.spec]  # every spec read before anything is written
    failed = 0
    for net in nets:
        progress = render.Progress(net.name, enabled=not args.quiet)
        d = derive(net)
        result = render.write(
            d, Path(args.output), [f for f in formats if f != "pdf"], langs, pdf="pdf" in formats, progress=progress
        )
        failed += result.failed
        for path in result.paths:
            print(path)
    return 0 if failed == 0 else 1


def _grad(args: argparse.Namespace) -> int:
    net = load(args.spec)
    expr = derive(net).gradient(args.param, args.form)
    print(latex(expr, net) if args.latex else expr)
    return 0


def _check(args: argparse.Namespace) -> int:
    if args.points < 1:
        raise DeriveError("--points: must be at least 1")
    net = load(args.spec)
    symbolic = False if args.no_symbolic else None
    report = checking.check(derive(net), args.points, args.seed, symbolic, use_torch=not args.no_torch)
    print(checking.format_report(net, report))
    return 0 if report.failed == 0 else 1


def _verify(args: argparse.Namespace) -> int:
    from . import formula_file, verdict_text
    from .verify import verify

    lang = _list("--lang", args.lang, ("en", "zh"))[0]
    net = load(args.spec)
    d = derive(net)
    if args.file is not None:
        if args.items:
            raise DeriveError("verify: give either --file or a formula, not both")
        entries = formula_file.read(args.file)
        rows = []
        for entry in entries:
            try:
                rows.append((entry, verify(d, entry.param, entry.formula), None))
            except DeriveError as exc:
                rows.append((entry, None, str(exc)))
        print(verdict_text.table(rows, net, lang), end="")
        if any(error for _, _, error in rows):
            return 2
        return 0 if all(v for _, v, _ in rows) else 1
    if len(args.items) not in (1, 2):
        raise DeriveError("verify: give PARAM FORMULA, or a FORMULA with a left side such as '\\delta_1 = …'")
    param, formula = (None, args.items[0]) if len(args.items) == 1 else args.items
    verdict = verify(d, param, formula)
    print(verdict.text(lang), end="")
    return 0 if verdict else 1


def _codegen(args: argparse.Namespace) -> int:
    from . import codegen

    if args.pytest and not args.function:
        raise DeriveError("codegen: --pytest needs --function module.path:name, the function to test")
    if args.function and not args.pytest:
        raise DeriveError("codegen: --function is for --pytest")
    net = load(args.spec)
    text = codegen.pytest_source(net, args.function, args.spec) if args.pytest else codegen.module_source(net)
    if args.output is None:
        sys.stdout.write(text)
    else:
        _write_whole(args.output, text)
    return 0


def _write_whole(path: str, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all, with a one-line error."""
    from pathlib import Path

    from .render import write_atomic

    target = Path(path)
    if target.is_dir():
        raise DeriveError(f"-o: {path} is a directory; give a file name such as grads.py")
    if not target.parent.is_dir():
        raise DeriveError(f"-o: the directory {str(target.parent)!r} does not exist")
    try:
        write_atomic(target, text)
    except OSError as exc:
        raise DeriveError(f"-o: cannot write {path} ({exc.strerror or exc.__class__.__name__})") from None


def _formulas_last(argv: list[str]) -> list[str]:
    """For verify, options first and everything else after ``--``: a formula may start with '-'."""
    if not argv or argv[0] != "verify" or "--" in argv:
        return argv
    options, rest, k = [], [], 1
    while k < len(argv):
        arg = argv[k]
        if arg in ("--file", "--lang") and k + 1 < len(argv):
            options += argv[k : k + 2]
            k += 2
            continue
        if arg.startswith(("--file=", "--lang=")) or arg in ("-h", "--help"):
            options.append(arg)
        else:
            rest.append(arg)
        k += 1
    return ["verify", *options, "--", *rest]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one verb; return the exit code."""
    try:
        args = _parser().parse_args(_formulas_last(list(sys.argv[1:] if argv is None else argv)))
        verbs = {"grad": _grad, "check": _check, "render": _render, "verify": _verify, "codegen": _codegen}
        return verbs[args.verb](args)
    except DeriveError as exc:
        print(f"derive: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
