"""Hostile and malformed input to ``derive verify``: a clean one-line error, nothing executed, never a hang.

Every formula (and a few PARAM strings) goes through ``verify(net, 'W1[1,2]', text)``
under an alarm that catches a hang (after a warm-up call, so one-off import and cache
time is not counted); the alarm is ten times the one-second goal, which is a speed goal
and is measured by ``benchmarks/bench_verify.py``, not here. Input that cannot be read must
raise :class:`DeriveError` with a one-line message that names what is wrong (and, for anything inside the text,
where: ``at character N``). Code-injection payloads would create a canary file
under pytest's ``tmp_path`` (or delete one) if anything ran them; the canary is
checked afterwards. Formulas that are valid mathematics, however extreme, must
get a verdict instead.

The corpora are plain data so that ``benchmarks/bench_verify.py`` can time them too.
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
from inprocess import Ran, run_cli

import derive
from derive.errors import DeriveError
from derive.verify import Verdict, verify
from derive.verify.syntax import MAX_LENGTH

ROOT = Path(__file__).resolve().parent.parent
SPECS = {name: ROOT / "examples" / f"{name}.toml" for name in ("seed000", "seed003", "seed004")}
PARAM = "W1[1,2]"
LIMIT = 10.0  # seconds per input before it counts as a hang (the goal, one second, is the benchmark's)
CANARY = "CANARY"  # replaced by a path under tmp_path that must never be created
KEEP = "KEEP"  # replaced by a path under tmp_path that must never be deleted

pytestmark = pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs signal.setitimer (Linux)")


@dataclass(frozen=True)
class Case:
    """One hostile input: what verify is called with and what the error message must say."""

    formula: object
    says: tuple[str, ...] = ()  # substrings the message must contain
    where: bool = True  # the message must point at a character
    spec: str = "seed004"
    param: object = PARAM


def case(id_: str, formula: object, *says: str, where: bool = True, spec: str = "seed004", param: object = PARAM):
    return id_, Case(formula, says, where, spec, param)


# ----------------------------------------------------------------- the corpora
# Payloads that would run code, read files or expand templates if anything evaluated them.
INJECTION = [
    case("py-import", f"__import__('os').system('touch {CANARY}')", "unexpected character"),
    case("py-eval", f"eval(\"__import__('os').system('touch {CANARY}')\")", "unexpected character"),
    case("py-exec", f"exec(\"open('{CANARY}', 'w').write('x')\")", "unexpected character"),
    case("py-lambda", f"(lambda: __import__('os').system('touch {CANARY}'))()", "unexpected character"),
    case("py-os-system", f"os.system('touch {CANARY}')", "unexpected character"),
    case("py-subprocess", f"__import__('subprocess').run(['touch', '{CANARY}'])", "unexpected character"),
    case("py-fstring", f'f\'{{__import__("os").system("touch {CANARY}")}}\'', "unexpected character"),
    case("py-open-write", f"open('{CANARY}', 'w').write('pwned')", "unexpected character"),
    case("backticks", f"`touch {CANARY}`", "unexpected character '`'"),
    case("shell-dollar-brace", f"${{touch {CANARY}}}", "unexpected character '$'"),
    case("shell-dollar-paren", f"$(touch {CANARY})", "unexpected character '$'"),
    # The issue's `$(rm -rf /)`, aimed at a file that must survive instead of at the root.
    case("shell-rm-rf", f"$(rm -rf {KEEP})", "unexpected character '$'"),
    case("shell-pipe", f"x_1 | touch {CANARY}", "unexpected character '|'"),
    case("shell-semicolon", f"x_1; touch {CANARY}", "unexpected character ';'"),
    case("jinja-arithmetic-bad", "{{ 7*7 }}}", "unexpected text"),
    case("jinja-ssti", f"{{{{ cycler.__init__.__globals__.os.popen('touch {CANARY}').read() }}}}", "character"),
    case("jinja-statement", f"{{% import os %}}{{{{ os.system('touch {CANARY}') }}}}", "unexpected character '%'"),
    case("tex-input", r"\input{/etc/passwd}", r"unknown command \input"),
    case("tex-def", r"\def\x{\input{/etc/passwd}}\x", r"unknown command \def"),
    case("tex-catcode", r"\catcode`\^=11 x_1", r"unknown command \catcode"),
    case("tex-write18", rf"\immediate\write18{{touch {CANARY}}}", r"unknown command \immediate"),
    case("tex-write18-bare", rf"\write18{{touch {CANARY}}}", r"unknown command \write"),
    case("tex-directlua", rf"\directlua{{os.execute('touch {CANARY}')}}", r"unknown command \directlua"),
    case("tex-newcommand", r"\newcommand{\x}{1}\x", r"unknown command \newcommand"),
    case("tex-text-payload", r"\text{__import__('os')}", r"\text needs a word"),
    case("sql-drop", "1; DROP TABLE formulas; --", "unexpected character ';'"),
    case("sql-or", "' OR '1'='1", "expected a term"),
    case("printf", "%s%s%n", "unexpected character '%'"),
]

# Brackets that do not match.
UNBALANCED = [
    case("paren-open", "(x_1 + x_2", "')'"),
    case("paren-close", "x_1 + x_2)", "unexpected text"),
    case("frac-brace", r"\frac{x_1}{x_2", "'}'"),
    case("script-brace", "x_{1", "'}'"),
    case("bracket-open", "[x_1 + x_2", "']'"),
    case("brace-bracket", "{x_1]", "'}'"),
    case("left-right-mismatch", r"\left( x_1 \right]", "')'"),
    case("close-open", ")(", "expected a term"),
    case("brace-close-open", "}{", "expected a term"),
    case("lhs-brace", r"\frac{\partial E}{\partial w^{(1)}_{12} = x_1", "'}'"),
    case("function-paren", r"\sigma(z_1", "')'"),
    case("ascii-index", "W1[1,2", "']'"),
    case("one-short", "((((x_1)))", "')'"),
]

# Exponents and numbers that would take a computer algebra system a long time.
HUGE = [
    case("exponent-99999999", "x_1^{99999999}", "exponent", "64"),
    case("exponent-tower", "2^{2^{2^{2^{2^{2}}}}}", "exponent"),
    case("exponent-9-9-9", "9^{9^{9}}", "exponent"),
    case("exponent-10-10-10", "10^{10^{10}}", "exponent"),
    case("exponent-negative", "x_1^{-99999999}", "exponent"),
    case("exponent-30-digits", "x_1^{" + "9" * 30 + "}", "exponent"),
    case("exponent-65", "(x_1+x_2)^{65}", "exponent", "64"),
    case("exponent-on-sigma", r"\sigma^{99999}(x_1)", "exponent"),
    case("number-31-digits", "1" * 31, "30 digits"),
    case("sum-99999999-terms", r"\sum_{k=1}^{99999999} x_1", "too many terms"),
    case("sum-2-to-64-terms", r"\sum_{k=1}^{2^{64}} x_1", "too many terms"),
]

# Length limits.
LONG = [
    case("10000-characters", "x_1+" * 2500, "10000 characters", "2000", where=False),
    case("2001-characters", "x_1+" * 500 + "x", "2001 characters", "2000", where=False),
    case("2000-characters-dangling-plus", "x_1+" * 500, "expected a term"),
]

# Nesting far deeper than MAX_DEPTH (40).
DEEP = [
    case("500-parentheses", "(" * 500 + "x_1" + ")" * 500, "40 levels"),
    case("500-braces", "{" * 500 + "x_1" + "}" * 500, "40 levels"),
    case("500-brackets", "[" * 500 + "x_1" + "]" * 500, "40 levels"),
    case("500-open-only", "(" * 500, "40 levels"),
    case("500-negated-parentheses", "-(" * 500 + "x_1" + ")" * 500, "40 levels"),
    case("300-superscripts", "x^{" * 300 + "1" + "}" * 300, "40 levels"),
    case("300-subscripts", "x_{" * 300 + "1" + "}" * 300, "40 levels"),
    case("300-hats", r"\hat{" * 300 + "y" + "}" * 300, "40 levels"),
    case("150-fractions", r"\frac{" * 150 + "1" + "}{2}" * 150, "40 levels"),
    case("200-sigmas", r"\sigma(" * 200 + "x_1" + ")" * 200, "40 levels"),
    case("300-left-parentheses", r"\left(" * 300 + "x_1", "40 levels"),
]

UNKNOWN_COMMANDS = [
    case("sqrt", r"\sqrt{x_1}", r"unknown command \sqrt"),
    case("foo", r"\foo x_1", r"unknown command \foo"),
    case("int", r"\int_0^1 x_1", r"unknown command \int"),
    case("infty", r"\infty", r"unknown command \infty"),
    # A matrix is read (issue 16: derive's own Δw^{(l)} = [[…]] reads back); other environments are still refused.
    case("begin-matrix", r"\begin{aligned} x_1 \end{aligned}", r"\begin is read only for a matrix"),
    case("mathcal", r"\mathcal{L}", r"unknown command \mathcal"),
    case("double-backslash", r"x_1 \\ x_2", "unknown command"),
    case("backslash-at", r"\@", "unknown command"),
    case("lone-backslash", "\\", "backslash"),
]

# Names the network does not have: the message lists the names it does have.
KNOWN = ("x_j", "z^{(l)}_i", "layers 1 to 2")
UNKNOWN_NAMES = [
    case("q", "q_1", "unknown name", "q_1", *KNOWN),
    case("v-layered", "v^{(1)}_1", "unknown name", "v^{(1)}_1", *KNOWN),
    case("alpha", r"\alpha x_1", "unknown name", "alpha", *KNOWN),
    case("k", "k", "unknown name", "'k'", *KNOWN),
    case("operatorname-system", r"\operatorname{system}(x_1)", "unknown name", "system", *KNOWN),
    case("mathrm-exec", r"\mathrm{exec}(x_1)", "unknown name", "exec", *KNOWN),
    case("seed003-q", "q_1", "unknown name", "q_1", "W^{(l)}_{ij}", "b^{(l)}_i", spec="seed003"),
    case("seed000-u", "u_{ca}", "unknown name", "u_{ca}", "node letters a, b, c, d, e, f", spec="seed000"),
]

INDEX_RANGE = [
    case("w1-41", "w^{(1)}_{41}", "index 4", "out of range", "1 to 3"),
    case("delta-layer-7", r"\delta^{(7)}_1", "layer 7", "1 to 2"),
    case("x-0", "x_{0}", "index 0", "out of range"),
    case("x-4", "x_4", "index 4", "out of range"),
    case("W1-3-1", "W1[3,1]", "index 3", "out of range"),
    case("y-2", "y_2", "index 2", "out of range"),
    case("yhat-5", r"\hat{y}_5", "index 5", "out of range"),
    case("a-layer-3", "a^{(3)}_1", "layer 3"),
    case("W-layer-0", "W0[1,1]", "layer 0"),
    case("delta-layer-0", r"\delta^{(0)}_1", "layer 0"),
    case("delta-layer-negative", r"\delta^{(-1)}_1", "layer"),
    case("no-biases", "b^{(1)}_1", "no biases"),
    case("seed003-W2-3-1", "W^{(2)}_{3,1}", "index 3", "out of range", spec="seed003"),
    case("seed000-no-such-weight", "w_{ac}", "no weight joins", spec="seed000"),
]

EMPTY = [
    case("empty", "", "empty", where=False),
    case("spaces", "     ", "empty", where=False),
    case("whitespace-mix", " \t\n\r\f\v ", "empty", where=False),
    case("tex-spaces-only", r"\, \quad \; \!", "expected a term"),
    case("empty-braces", "{}", "expected a term"),
    case("empty-parentheses", "()", "expected a term"),
    case("equals-only", "=", "expected a term"),
    case("no-right-side", "x_1 =", "expected a term"),
    case("no-left-side", "= x_1", "expected a term"),
    # A chain A = B = C is read (issue 16): each link's left side must still name what the parameter names.
    case("two-equals", "x_1 = x_2 = x_3", "the left side names x[1] but the parameter is W1[1,2]"),
    case("none", None, "expected text", where=False),
    case("bytes", b"x_1", "expected text", where=False),
]

UNICODE = [
    case("subscript-digit", "x₁", "unexpected character"),
    case("superscript-digit", "x_1²", "unexpected character"),
    case("superscript-one", "x_1 + ¹", "unexpected character"),
    case("emoji", "😀", "unexpected character"),
    case("fullwidth-x", "ｘ_1", "unexpected character"),
    case("infinity-sign", "∞", "unexpected character"),
    case("combining-accent", "x\u0301_1", "unexpected character"),
    case("zero-width-space", "x_1\u200b", "unexpected character"),
    case("right-to-left-override", "x_1\u202e + x_2", "unexpected character"),
    case("byte-order-mark", "\ufeffx_1", "unexpected character"),
    case("lone-surrogate", "x_1 \ud800", "unexpected character"),
]

CONTROL = [
    case("nul", "x_1\x00", "unexpected character"),
    case("nul-only", "\x00" * 5, "unexpected character"),
    case("escape-sequence", "x_1\x1b[31m red", "unexpected character"),
    case("bell-backspace", "x_1\x07\x08", "unexpected character"),
    case("delete", "x_1 \x7f", "unexpected character"),
    case("newline", "x_1\n)", "unexpected text"),
    case("crlf", "x_1\r\n+\n)", "expected a term"),
    case("next-line", "x_1 \x85 )", "unexpected text"),
    case("file-separator", "x_1\x1c)", "unexpected text"),
    case("line-separator", "x_1\u2028)", "unexpected text"),
]

# Hostile PARAM strings (the formula itself is harmless).
PARAMS = [
    case("param-py-import", "x_1", "unexpected character", param=f"__import__('os').system('touch {CANARY}')"),
    case("param-shell", "x_1", "unexpected character ';'", param=f"W1[1,2]; touch {CANARY}"),
    case("param-tex-write18", "x_1", r"unknown command \immediate", param=rf"\immediate\write18{{touch {CANARY}}}"),
    case("param-no-layer-9", "x_1", "layer 9", param="W9[1,1]"),
    case("param-with-equals", "x_1", "without '='", where=False, param="W1[1,2] = x_1"),
    case("param-empty", "x_1", "empty", where=False, param=""),
    case("param-whitespace", "x_1", "empty", where=False, param=" \t "),
    case("param-31-digits", "x_1", "30 digits", param="W1[" + "9" * 31 + ",1]"),
    case("param-500-parentheses", "x_1", "40 levels", param="(" * 500 + "W1[1,2]" + ")" * 500),
    case("param-10000-characters", "x_1", "10000 characters", where=False, param="W" * 10000),
    case("param-cost", "x_1", "not a weight", param="C"),
    case("param-nul", "x_1", "unexpected character", param="W1[1,2]\x00"),
    case("param-newline", "x_1", "unexpected text", param="W1[1,2]\n)"),
    case("param-int", "x_1", "expected text", where=False, param=42),
]

ERRORS = INJECTION + UNBALANCED + HUGE + LONG + DEEP + UNKNOWN_COMMANDS + UNKNOWN_NAMES + INDEX_RANGE + EMPTY
ERRORS += UNICODE + CONTROL

# Valid mathematics, however extreme: a verdict (wrong), quickly.
VALID = [
    ("exp-tower", "e^{e^{e^{e^{e^{x_1}}}}}"),
    ("exp-tower-99", "e^{e^{e^{e^{e^{e^{e^{e^{99}}}}}}}}"),
    ("exp-nested", r"\exp(\exp(\exp(\exp(\exp(\exp(x_1))))))"),
    ("e-to-99999", "e^{99999}"),
    ("power-64-of-sum", "(x_1+x_2+x_3)^{64}"),
    ("30-digits-to-64", "9" * 30 + "^{64}"),
    ("jinja-arithmetic", "{{7*7}}"),
]

# Legal input at the size limits: a verdict or a clean error, never a hang and never a crash.
LIMITS = [
    ("1999-characters-of-x1-plus", "seed004", "x_1+" * 499 + "x_1"),
    ("2000-characters-with-space", "seed004", ("x_1+" * 499 + "x_1").ljust(MAX_LENGTH)),
    ("1999-characters-of-1-plus", "seed004", "1+" * 999 + "1"),
    ("1999-characters-of-x1-times", "seed004", "x_1 " * 499 + "x_1"),
    ("1999-characters-of-1-over", "seed004", "1/" * 999 + "1"),
    ("1990-minus-signs-in-exponent", "seed004", "x^" + "-" * 1990 + "1"),
    ("990-exponents", "seed004", "x_1" + "^2" * 990),
    ("990-transposes", "seed004", "x_1" + "^T" * 990),
    ("1990-transpose-marks", "seed004", "x_1" + "ᵀ" * 1990),
    ("1990-primes", "seed004", "x_1" + "'" * 1990),
    ("sum-10000-terms", "seed004", r"\sum_{k=1}^{10000} x_1"),
    ("nested-sums", "seed004", r"\sum_{i=1}^{9999}\sum_{j=1}^{9999}\sum_{k=1}^{9999} x_1"),
    ("nested-sums-seed003", "seed003", r"\sum_{i=1}^{9999}\sum_{j=1}^{9999} x_1"),
]


def corpus(directory: Path) -> list[tuple[str, str, str, object, object, str]]:
    """Every case as (group, id, spec, param, formula, expected), placeholders pointing into ``directory``.

    expected: "error" (a clean DeriveError), "verdict" (a wrong verdict) or "either". For the benchmark.
    """
    paths = {CANARY: str(directory / "canary"), KEEP: str(directory / "keep")}
    out = []
    groups = {"injection": INJECTION, "unbalanced": UNBALANCED, "huge": HUGE, "long": LONG, "deep": DEEP}
    groups |= {"command": UNKNOWN_COMMANDS, "name": UNKNOWN_NAMES, "index": INDEX_RANGE, "empty": EMPTY}
    groups |= {"unicode": UNICODE, "control": CONTROL, "param": PARAMS}
    for group, cases in groups.items():
        for id_, c in cases:
            out.append((group, id_, c.spec, substitute(c.param, paths), substitute(c.formula, paths), "error"))
    out += [("valid", id_, "seed004", PARAM, formula, "verdict") for id_, formula in VALID]
    out += [("limits", id_, spec, PARAM, formula, "either") for id_, spec, formula in LIMITS]
    return out


# ----------------------------------------------------------------- helpers
class TookTooLong(BaseException):
    """Raised by the alarm; a BaseException so that no ``except Exception`` in derive can swallow it."""


@contextlib.contextmanager
def within(seconds: float = LIMIT):
    """Fail the test when the block runs longer than ``seconds`` (interrupting it with SIGALRM)."""

    def expire(signum, frame):
        raise TookTooLong

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    start = time.perf_counter()
    try:
        yield
    except TookTooLong:
        pytest.fail(f"still running after {seconds} s", pytrace=False)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    elapsed = time.perf_counter() - start
    assert elapsed < seconds, f"took {elapsed:.2f} s (the limit is {seconds} s)"


def substitute(text: object, paths: dict[str, str]) -> object:
    if not isinstance(text, str):
        return text
    for placeholder, path in paths.items():
        text = text.replace(placeholder, path)
    return text


def assert_one_line(message: str) -> None:
    assert message.strip(), "the message is empty"
    assert len(message.splitlines()) == 1, f"the message is not one line: {message!r}"
    assert "Traceback" not in message


def assert_clean(message: str, c: Case) -> None:
    """One line that names what is wrong (and where, when the problem is inside the text)."""
    assert_one_line(message)
    if c.where:
        assert "at character" in message, f"the message does not say where: {message!r}"
    for expected in c.says:
        assert expected in message, f"{expected!r} not in {message!r}"


def raw_controls(message: str) -> list[str]:
    """Characters that a terminal would act on or hide: controls, format marks, line separators, surrogates."""
    return [ch for ch in message if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp")]


@pytest.fixture(scope="module")
def nets():
    """The example networks, each warmed up once so that imports and caches do not count against the alarm."""
    out = {name: derive.load(path) for name, path in SPECS.items()}
    warm = {"seed004": r"-\delta_1 x_2", "seed003": r"\delta^{(1)}_1 x_2", "seed000": "x_1"}
    for name, net in out.items():
        for formula in (warm[name], "2 x_2", "q_1", "(x_1"):
            with contextlib.suppress(DeriveError):
                verify(net, PARAM, formula)
    return out


@pytest.fixture
def paths(tmp_path):
    """Placeholder paths for the payloads; afterwards, nothing was created or deleted."""
    keep = tmp_path / "keep"
    keep.write_text("must survive\n")
    canary = tmp_path / "canary"
    yield {CANARY: str(canary), KEEP: str(keep)}
    assert not canary.exists(), "a payload was executed: the canary file exists"
    assert keep.exists(), "a payload was executed: the file to keep was deleted"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep"], "a payload created files"


def ids(cases):
    return [id_ for id_, _ in cases]


def values(cases):
    return [c for _, c in cases]


# ----------------------------------------------------------------- the tests
def test_the_corpus_is_large_enough():
    assert len(ERRORS) >= 40
    assert len(set(ids(ERRORS + PARAMS))) == len(ERRORS + PARAMS), "duplicate case ids"
    assert len(INJECTION) >= 10 and len(PARAMS) >= 5


@pytest.mark.parametrize("c", values(ERRORS), ids=ids(ERRORS))
def test_hostile_formula_gives_a_clean_error(nets, paths, c):
    formula = substitute(c.formula, paths)
    with within(), pytest.raises(DeriveError) as info:
        verify(nets[c.spec], c.param, formula)
    assert_clean(str(info.value), c)


@pytest.mark.parametrize("c", values(INJECTION), ids=ids(INJECTION))
def test_injection_leaves_derive_usable(nets, paths, c):
    """After a payload, the same network still verifies a right formula (nothing was patched or poisoned)."""
    with contextlib.suppress(DeriveError), within():
        verify(nets[c.spec], c.param, substitute(c.formula, paths))
    with within():
        assert verify(nets["seed004"], PARAM, r"-\delta_1 x_2")


@pytest.mark.parametrize(
    ("formula", "written"),
    [
        ("q_1", "q_1"),
        (r"\alpha x_1", r"\alpha"),
        (r"\operatorname{system}(x_1)", "system"),
        (r"\mathrm{exec}(x_1)", "exec"),
    ],
    ids=["q", "alpha", "operatorname-system", "mathrm-exec"],
)
def test_unknown_name_is_quoted_as_written(nets, formula, written):
    """``unknown name '…'`` quotes the name the user wrote (not the command around it, not doubled backslashes)."""
    with within(), pytest.raises(DeriveError) as info:
        verify(nets["seed004"], PARAM, formula)
    message = str(info.value)
    quoted = re.search(r"unknown name '(.*?)' \(", message)
    assert quoted is not None, message
    assert written in quoted.group(1) and "\\\\" not in quoted.group(1), f"quoted {quoted.group(1)!r} in {message!r}"


@pytest.mark.parametrize("c", values(UNICODE + CONTROL), ids=ids(UNICODE + CONTROL))
def test_message_carries_no_raw_control_characters(nets, c):
    """The message shows the input escaped: no NUL, escape sequence, bidi override or line break reaches a terminal."""
    with within(), pytest.raises(DeriveError) as info:
        verify(nets[c.spec], c.param, c.formula)
    message = str(info.value)
    assert not raw_controls(message), f"raw {raw_controls(message)!r} in {message!r}"


@pytest.mark.parametrize("c", values(PARAMS), ids=ids(PARAMS))
def test_hostile_param_gives_a_clean_error(nets, paths, c):
    param = substitute(c.param, paths)
    with within(), pytest.raises(DeriveError) as info:
        verify(nets[c.spec], param, c.formula)
    assert_clean(str(info.value), c)


@pytest.mark.parametrize("c", values(PARAMS), ids=ids(PARAMS))
def test_param_error_names_the_parameter(nets, paths, c):
    """A problem in PARAM is reported as the parameter's, not the formula's (the formula here is fine)."""
    param = substitute(c.param, paths)
    with within(), pytest.raises(DeriveError) as info:
        verify(nets[c.spec], param, c.formula)
    message = str(info.value)
    assert "param" in message.lower(), f"the message does not say it is about the parameter: {message!r}"
    assert not message.startswith("formula:"), message


@pytest.mark.parametrize("formula", [f for _, f in VALID], ids=[i for i, _ in VALID])
def test_extreme_but_valid_formula_gets_a_verdict(nets, formula):
    with within():
        v = verify(nets["seed004"], PARAM, formula)
    assert isinstance(v, Verdict)
    assert not v, "the formula is not the gradient of W1[1,2]"
    assert v.formula == formula


def test_template_syntax_is_shown_not_expanded(nets):
    with within():
        v = verify(nets["seed004"], PARAM, "{{7*7}}")
    text = v.text()
    assert "= {{7*7}}" in text.splitlines()[0]
    assert "wrong" in text.splitlines()[0]


@pytest.mark.parametrize(("spec", "formula"), [c[1:] for c in LIMITS], ids=[c[0] for c in LIMITS])
def test_input_at_the_limits_is_answered_or_refused(nets, spec, formula):
    assert len(formula) <= MAX_LENGTH
    try:
        with within():
            v = verify(nets[spec], PARAM, formula)
    except DeriveError as exc:
        assert_one_line(str(exc))
        assert "longer than" not in str(exc), "input within MAX_LENGTH was refused as too long"
    else:
        assert isinstance(v, Verdict)


def test_warm_verify_of_a_right_formula_answers(nets):
    with within():
        assert verify(nets["seed004"], PARAM, r"-\delta_1 x_2")


# ----------------------------------------------------------------- the command line
CLI = [
    ("py-import", PARAM, f"__import__('os').system('touch {CANARY}')", "unexpected character"),
    ("shell-dollar-paren", PARAM, f"$(touch {CANARY})", "unexpected character"),
    ("shell-rm-rf", PARAM, f"$(rm -rf {KEEP})", "unexpected character"),
    ("backticks", PARAM, f"`touch {CANARY}`", "unexpected character"),
    ("tex-write18", PARAM, rf"\immediate\write18{{touch {CANARY}}}", "unknown command"),
    ("param-shell", f"W1[1,2]; touch {CANARY}", "x_1", "unexpected character"),
    ("500-parentheses", PARAM, "(" * 500 + "x_1" + ")" * 500, "40 levels"),
    ("10000-characters", PARAM, "x_1+" * 2500, "longer than"),
    ("empty", PARAM, "", "empty"),
    ("huge-exponent", PARAM, "x_1^{99999999}", "exponent"),
    ("unknown-name", PARAM, "q_1", "unknown name"),
    ("newline", PARAM, "x_1\n)", "unexpected text"),
]


def run(*args: str | bytes, cwd: Path) -> Ran:
    """``derive verify seed004.toml ARGS`` in ``cwd``, its output as bytes."""
    return run_cli("verify", str(SPECS["seed004"]), *args, cwd=cwd, text=False)


def assert_exit_2(out: Ran, says: str = "") -> str:
    stderr = out.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr, stderr[-2000:]
    assert out.returncode == 2, (out.returncode, stderr[-2000:])
    assert out.stdout == b""
    assert stderr.endswith("\n") and stderr.count("\n") == 1, f"stderr is not one line: {stderr!r}"
    assert len(stderr.splitlines()) == 1, f"stderr is not one line: {stderr!r}"
    assert stderr.startswith("derive: error: ")
    assert says in stderr
    return stderr


@pytest.mark.parametrize(("param", "formula", "says"), [c[1:] for c in CLI], ids=[c[0] for c in CLI])
def test_hostile_input_on_the_command_line(paths, tmp_path, param, formula, says):
    assert_exit_2(run(substitute(param, paths), substitute(formula, paths), cwd=tmp_path), says)


def test_invalid_utf8_argument_on_the_command_line(tmp_path):
    out = run(PARAM.encode(), b"x_1 \xff\xfe", cwd=tmp_path)
    assert_exit_2(out, "unexpected character")


@pytest.mark.parametrize(
    "formula", ["x_1+" * 499 + "x_1", "x" * 1999, "x_1" + "^2" * 990], ids=["x1-plus", "letters", "exponents"]
)
def test_long_valid_input_on_the_command_line_never_crashes(tmp_path, formula):
    out = run(PARAM, formula, cwd=tmp_path)
    stderr = out.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr, stderr[-1500:]
    assert out.returncode in (1, 2), (out.returncode, stderr[-1500:])
    if out.returncode == 2:
        assert_exit_2(out)
    else:
        assert out.stdout.decode().startswith("wrong: ")


def test_hostile_list_file(paths, tmp_path_factory):
    """A --file list of payloads: every row is 'not understood', nothing runs, one row per entry."""
    entries = [c for _, c in INJECTION[:8]] + [Case("{{7*7}}")]
    lines = []
    for c in entries:  # JSON strings are TOML basic strings
        formula = json.dumps(substitute(c.formula, paths), ensure_ascii=False)
        lines += ["[[formula]]", f"param = {json.dumps(c.param)}", f"formula = {formula}", ""]
    listing = tmp_path_factory.mktemp("list") / "hostile.toml"
    listing.write_text("\n".join(lines), encoding="utf-8")
    out = run_cli("verify", str(SPECS["seed004"]), "--file", str(listing), cwd=Path(paths[KEEP]).parent)
    assert "Traceback" not in out.stderr
    assert out.returncode == 2, out.stderr
    table = out.stdout.splitlines()
    assert table[-1] == "0 passed, 1 failed, 8 not understood"
    assert sum("cannot read it:" in line for line in table) == 8
    assert any(line.endswith("= {{7*7}}") and " wrong " in line for line in table)
