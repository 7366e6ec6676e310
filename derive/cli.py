"""The command line: ``derive <verb> SPEC …``.

Exit codes (the README's table): 0 success; 1 a check failed or a formula is wrong; 2 bad input or a
file that cannot be read or written (one line on stderr); 3 an internal error, a bug in derive (one
line; ``--debug`` shows the traceback); 130 interrupted; 141, silently, when the reader of the output
went away (``derive check … | head -1``).

Each verb is one entry of ``VERBS``: its arguments, examples and run function side by side. How the
command line is read (argparse, one-line usage errors, a verb's help) is :mod:`derive.cli_parse`.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from derive import check as checking
from derive import progress
from derive.about import __version__
from derive.api import derive
from derive.cli_parse import UsageError, Verb, choices, formulas_last, one, one_lang, parse, parser
from derive.engine.parameters import FORMS
from derive.errors import DeriveError
from derive.files import write_atomic
from derive.model import limits
from derive.model.document import DETAILS
from derive.model.network import Network, with_targets
from derive.model.spec import load
from derive.numeric import codegen, layouts
from derive.present import render
from derive.present.latex import latex
from derive.present.pdf import require_engines
from derive.rules import targets
from derive.verify import formula_file, verdict_text
from derive.verify.verdict import verify

OK, FAILED, BAD_INPUT, INTERNAL, INTERRUPTED, CLOSED_PIPE = 0, 1, 2, 3, 130, 141


def _load(spec: str, verb: str, closed_forms: bool = True) -> Network:
    """The spec's network, refused when it is over ``verb``'s size limits (paths only for ``closed_forms``)."""
    net = load(spec)
    jacobian = not net.activation(net.depth).elementwise if closed_forms else None
    try:
        limits.enforce(net.sizes, net.bias, verb, jacobian)
    except DeriveError as exc:
        raise DeriveError(f"{spec}: {exc}") from None
    return net


# -------------------------------------------------------------------------------------------- verbs
def _grad_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", help="network spec (TOML)")
    p.add_argument("param", help="parameter name, such as W2[1,1] or b1[2] (1-based, whatever the notation)")
    p.add_argument("--latex", action="store_true", help="print LaTeX in the spec's notation instead of plain text")
    p.add_argument(
        "--form",
        choices=FORMS,
        default="auto",
        help="closed: in a, z, weights and targets; expanded: in inputs, weights, biases and targets; delta: δ times"
        " the input of the weight; auto: expanded where that stays short (networks of up to 40 parameters), else"
        " closed (default: %(default)s)",
    )


def _grad(args: argparse.Namespace) -> int:
    net = _load(args.spec, "grad", closed_forms=args.form != "delta")
    expr = derive(net).objective_gradient(args.param, args.form)  # ∂C/∂θ, plus ∂R/∂θ under an L2 penalty
    print(latex(expr, net) if args.latex else expr)
    return OK


def _check_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", help="network spec (TOML)")
    p.add_argument("--points", type=int, default=3, help="seeded random batches for the numeric checks (default: 3)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random batches (default: 0)")
    p.add_argument("--no-symbolic", action="store_true", help="skip sympy's differentiation of the composed cost")
    p.add_argument("--no-torch", action="store_true", help="skip torch autograd even when torch is installed")
    p.add_argument("--lang", default="en", help="language of the report: en or zh (default: %(default)s)")


def _check(args: argparse.Namespace) -> int:
    lang = one_lang(args.lang)
    if not 1 <= args.points <= 100:
        raise UsageError("--points: must be between 1 and 100")
    if not 0 <= args.seed < 2**63:
        raise UsageError("--seed: must be a whole number from 0 to 2^63 - 1")
    net = _load(args.spec, "check")
    symbolic = False if args.no_symbolic else None
    with progress.phase("check"):
        report = checking.check(derive(net), args.points, args.seed, symbolic, use_torch=not args.no_torch)
    print(checking.format_report(net, report, lang))
    if not args.quiet:
        print(checking.format_times(report, lang), file=sys.stderr)
    return OK if report.failed == 0 else FAILED


def _render_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", nargs="+", help="network spec(s) (TOML)")
    p.add_argument("-o", "--output", required=True, help="output directory (created when missing)")
    p.add_argument("--format", default="md,tex,html", help="comma-separated: md, tex, html, pdf (default: %(default)s)")
    p.add_argument("--lang", default="en", help="comma-separated: en, zh (default: %(default)s)")
    p.add_argument(
        "--detail",
        metavar="{compact,full}",
        help="compact: one weight and one bias per layer derived in full, the others in a table; "
        "full: every parameter in full (default: the spec's [document] detail, else compact)",
    )


def _render(args: argparse.Namespace) -> int:

    formats = choices("--format", args.format, (*render.FORMATS, "pdf"))
    langs = choices("--lang", args.lang, render.LANGS)
    detail = None if args.detail is None else one("--detail", args.detail, DETAILS)
    nets: list[Network] = []
    for spec in args.spec:  # every spec read and sized before anything is written
        net = _load(spec, "render")
        same = next((other for other, n in zip(args.spec, nets, strict=False) if n.name == net.name), None)
        if same is not None:
            raise UsageError(f"{same} and {spec} both have the name {net.name!r}: their documents would overwrite")
        nets.append(net)
    if "pdf" in formats:  # before the work, not after it
        require_engines(langs)
    failed = 0
    for net in nets:
        with progress.about(net.name):
            result = render.write(
                derive(net),
                Path(args.output),
                [f for f in formats if f != "pdf"],
                langs,
                pdf="pdf" in formats,
                detail=detail,
            )
        failed += result.failed
        for path in result.paths:
            print(path)
    return OK if failed == 0 else FAILED


def _verify_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", help="network spec (TOML)")
    p.add_argument("items", nargs="*", metavar="[PARAM] FORMULA", help="what the formula is for, and the formula")
    p.add_argument("--file", help="a TOML or Markdown list of formulas to verify")
    p.add_argument("--lang", default="en", help="language of the answer: en or zh (default: %(default)s)")


def _verify(args: argparse.Namespace) -> int:

    lang = one_lang(args.lang)
    if args.file is not None and args.items:
        raise UsageError("give either --file or a formula, not both")
    if args.file is None and len(args.items) not in (1, 2):
        raise UsageError("give PARAM FORMULA, or a FORMULA with a left side such as '\\delta_1 = …'")
    net = _load(args.spec, "verify")
    d = derive(net)
    if args.file is not None:
        entries = formula_file.read(args.file)
        rows = []
        for entry in progress.track(entries, "formulas"):
            try:
                rows.append((entry, verify(d, entry.param, entry.formula), None))
            except DeriveError as exc:
                rows.append((entry, None, str(exc)))
        print(verdict_text.table(rows, net, lang), end="")
        unread = sum(1 for _, _, error in rows if error)
        if unread:
            _say(f"error: {args.file}: {unread} of {len(rows)} formulas not understood (the table says why)")
            return BAD_INPUT
        return OK if all(v for _, v, _ in rows) else FAILED
    param, formula = (None, args.items[0]) if len(args.items) == 1 else args.items
    verdict = verify(d, param, formula)
    print(verdict.text(lang), end="")
    return OK if verdict else FAILED


def _codegen_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", help="network spec (TOML)")
    p.add_argument("-o", "--output", help="file to write (default: standard output)")
    p.add_argument("--pytest", action="store_true", help="write a pytest file that tests --function")
    p.add_argument("--function", help="your gradients function, as module.path:name (with --pytest)")
    p.add_argument(
        "--targets",
        choices=tuple(targets.REGISTRY),
        help="what y is in the code (default: the spec's targets): one_hot rows, or labels, integers of shape (m,)",
    )
    p.add_argument("--weights", help="with --pytest: your W layout, out_in (a row per neuron; default) or in_out")
    p.add_argument("--samples", help="with --pytest: x and y as rows (m, n; default) or columns (n, m)")
    p.add_argument("--names", help="with --pytest: your gradients' keys, as dW1=W1,db1=b1,…")


def _codegen(args: argparse.Namespace) -> int:

    if args.pytest and not args.function:
        raise UsageError("--pytest needs --function module.path:name, the function to test")
    if args.function and not args.pytest:
        raise UsageError("--function is for --pytest")
    given = [f"--{key}" for key in ("weights", "samples", "names") if getattr(args, key) is not None]
    if given and not args.pytest:
        raise UsageError(f"{given[0]} is for --pytest")
    net = _load(args.spec, "codegen")
    if args.targets is not None:
        net = with_targets(net, args.targets)
    if args.pytest:
        names = layouts.parse_names(args.names) if args.names is not None else None
        try:
            layout = layouts.layout(net.shapes(), args.weights or "out_in", args.samples or "rows", names)
        except DeriveError as exc:  # "weights: …" names the option
            raise UsageError(f"--{exc}") from None
        text = codegen.pytest_source(net, args.function, args.spec, layout)
    else:
        text = codegen.module_source(net)
    if args.output is None:
        sys.stdout.write(text)
    else:
        _write_whole(args.output, text)
    return OK


VERBS: dict[str, Verb] = {
    "grad": Verb(
        "print one parameter's gradient ∂C/∂θ (plus ∂R/∂θ under an L2 penalty)",
        ("derive grad examples/seed004.toml 'W1[1,2]'", "derive grad examples/seed003.toml 'b2[1]' --latex"),
        None,
        _grad_arguments,
        _grad,
    ),
    "check": Verb(
        "check every gradient symbolically and numerically",
        ("derive check examples/seed003.toml", "derive check examples/seed004.toml --points 5 --no-torch"),
        "a check failed",
        _check_arguments,
        _check,
    ),
    "render": Verb(
        "write the derivation as Markdown, LaTeX, HTML and PDF documents",
        ("derive render examples/seed004.toml -o docs", "derive render examples/seed00*.toml -o docs --lang en,zh"),
        "a check shown in a document failed",
        _render_arguments,
        _render,
    ),
    "verify": Verb(
        "say whether a hand-written formula is right, and why not",
        (
            "derive verify examples/seed004.toml delta2 '(y-\\hat y)\\hat y(1-\\hat y)'",
            "derive verify examples/seed001.toml --file examples/formulas/seed001.md",
        ),
        "a formula is wrong",
        _verify_arguments,
        _verify,
    ),
    "codegen": Verb(
        "write the gradients as a NumPy module, or a pytest file for your own gradients",
        (
            "derive codegen examples/seed003.toml -o grads.py",
            "derive codegen examples/seed004.toml --pytest --function backprop:gradients -o test_backprop.py",
        ),
        None,
        _codegen_arguments,
        _codegen,
    ),
}


def _write_whole(path: str, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all, with a one-line error."""

    target = Path(path)
    if target.is_dir():
        raise DeriveError(f"-o: {path} is a directory; give a file name such as grads.py")
    if not target.parent.is_dir():
        raise DeriveError(f"-o: the directory {str(target.parent)!r} does not exist")
    try:
        write_atomic(target, text)
    except OSError as exc:
        raise DeriveError(f"-o: cannot write {path} ({exc.strerror or exc.__class__.__name__})") from None


def _say(message: str) -> None:
    try:
        print(f"derive: {' '.join(message.split())}", file=sys.stderr)
    except (OSError, ValueError):  # stderr itself is gone: the exit code still says what happened
        pass


def _closed_pipe() -> int:
    """The reader went away: point stdout at /dev/null so that the exit flush is quiet too."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return CLOSED_PIPE


def main(argv: Sequence[str] | None = None) -> int:
    """Run one verb; return the exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in words[: words.index("--")] if "--" in words else "--debug" in words
    top = parser(VERBS)
    try:
        if not words:
            top.print_help(sys.stderr)
            return BAD_INPUT
        args = parse(top, formulas_last(words))
        if args.verb is None:
            raise UsageError(f"give a verb: {', '.join(VERBS)} (derive --help)")
        with progress.showing(not args.quiet):
            code = VERBS[args.verb].run(args)
        sys.stdout.flush()
        return code
    except DeriveError as exc:
        _say(f"error: {exc}")
        return BAD_INPUT
    except BrokenPipeError:
        return _closed_pipe()
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        _say(f"error: {where}{(exc.strerror or exc.__class__.__name__).lower()}")
        return BAD_INPUT
    except KeyboardInterrupt:
        return INTERRUPTED
    except Exception as exc:  # a bug: say so in one line, never exit 1 (which means "a check failed")
        if debug:
            traceback.print_exc()
        detail = " ".join(str(exc).split())[:200]
        _say(
            f"internal error: {exc.__class__.__name__}{': ' + detail if detail else ''}"
            f" (a bug in derive {__version__}; run again with --debug for the traceback)"
        )
        return INTERNAL


def run() -> None:
    """Console-script entry point."""
    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = _closed_pipe()
    sys.exit(code)


if __name__ == "__main__":
    run()
