"""How the command line is read: argparse with one-line errors, option values checked, a verb's help.

It exists apart from :mod:`derive.cli` so that the verbs there (each one's arguments, examples and run
function side by side) read without argparse's machinery in between: this module turns the verbs'
records into a parser, says a mistyped verb, option or value in one line with the nearest choice, and
puts verify's formulas after ``--`` (a formula may start with '-'). Nothing here runs a verb.
"""

from __future__ import annotations

import argparse
import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from derive.about import DISTRIBUTION, __version__
from derive.errors import DeriveError
from derive.templating import LANGS


def exit_codes(failed: str | None) -> str:
    """The exit-code line of a help text; ``failed`` says what 1 means (None: the verb never exits 1)."""
    one = f"1 {failed}, " if failed else ""
    return f"exit codes: 0 success, {one}2 bad input (one line on stderr), 3 internal error (a bug; --debug shows it)"


class UsageError(DeriveError):
    """A command line that cannot be run; exit 2 like any bad input."""


def suggestion(word: str, choices: Sequence[str]) -> str:
    """`` (did you mean 'check'?)`` for a near miss, else nothing."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)  # 0.5: one letter of two
    return f" (did you mean {close[0]!r}?)" if close else ""


class ArgumentParser(argparse.ArgumentParser):
    """argparse with one-line errors that name the verb and suggest the nearest choice."""

    def error(self, message: str) -> None:  # type: ignore[override]
        choice = re.search(r"argument (\S+): invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if choice:
            where, word, options = choice.group(1), choice.group(2), re.findall(r"'([^']*)'", choice.group(3))
            what = "unknown verb" if where == "VERB" else f"{where}: unknown value"
            message = f"{what} {word!r}{suggestion(word, options)}; choose from {', '.join(options)}"
        raise UsageError(f"{_verb_of(self.prog)}{message}")


def _verb_of(prog: str) -> str:
    """``check: `` for the parser of ``derive check``; nothing for ``derive`` itself."""
    words = prog.split()
    return f"{words[1]}: " if len(words) > 1 else ""


@dataclass(frozen=True)
class Verb:
    """One verb: what it does, how it is called, what exit code 1 means for it, and what runs it."""

    summary: str
    examples: tuple[str, ...]
    failed: str | None
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


# ------------------------------------------------------------------------------------- option values
def choices(option: str, text: str, allowed: Sequence[str]) -> list[str]:
    """The comma-separated values of ``option``, each one of ``allowed``, at least one."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    for item in items:
        if item not in allowed:
            raise UsageError(
                f"{option}: unknown value {item!r}{suggestion(item, allowed)}; choose from {', '.join(allowed)}"
            )
    if not items:
        raise UsageError(f"{option}: give at least one of {', '.join(allowed)}")
    return items


def one(option: str, text: str, allowed: Sequence[str]) -> str:
    """The one value of an option that takes a single choice."""
    items = choices(option, text, allowed)
    if len(items) > 1:
        raise UsageError(f"{option}: give one of {', '.join(allowed)}")
    return items[0]


def one_lang(text: str) -> str:
    """The one language of an answer on the terminal (check, verify): en or zh."""
    langs = choices("--lang", text, LANGS)
    if len(langs) > 1:
        raise UsageError("--lang: give one language, en or zh")
    return langs[0]


# ------------------------------------------------------------------------------------------- parser
def _epilog(verb: Verb) -> str:
    examples = "\n".join(f"  {example}" for example in verb.examples)
    codes = exit_codes(verb.failed)
    where = "(examples/ is the folder of example specs in derive's source repository)"
    return f"examples:\n{examples}\n{where}\n\n{codes}"


def parser(verbs: Mapping[str, Verb]) -> ArgumentParser:
    """The parser of ``derive`` and a subparser for each of ``verbs``, with its help and examples."""
    top = ArgumentParser(
        prog="derive",
        allow_abbrev=False,
        description="Backpropagation derived by the chain rule, checked, and written out for a declared network.",
        epilog=f"Run 'derive VERB --help' for a verb's options and examples.\n\n{exit_codes('failed')}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"derive {__version__} ({DISTRIBUTION})")
    top.add_argument("--debug", action="store_true", help="show the traceback of an internal error")
    top.add_argument("--quiet", action="store_true", help="no progress bars on stderr (drawn only on a terminal)")
    subparsers = top.add_subparsers(dest="verb", metavar="VERB", parser_class=ArgumentParser)
    for name, verb in verbs.items():
        sub = subparsers.add_parser(
            name,
            allow_abbrev=False,
            help=verb.summary,
            description=verb.summary[0].upper() + verb.summary[1:] + ".",
            epilog=_epilog(verb),
            formatter_class=argparse.RawDescriptionHelpFormatter,  # the examples keep their lines
        )
        verb.arguments(sub)
        sub.add_argument(
            "--quiet",
            action="store_true",
            default=argparse.SUPPRESS,  # `derive --quiet VERB` holds too
            help="no progress bars on stderr (drawn only on a terminal)",
        )
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return top


def parse(top: ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """Parse, with a suggestion for each mistyped option of the verb."""
    args, extra = top.parse_known_args(argv)
    if extra:
        verb_parser = top if args.verb is None else _subparser(top, args.verb)
        options = [o for o in verb_parser._option_string_actions if o.startswith("--")]
        words = [w + (suggestion(w.split("=")[0], options) if w.startswith("-") else "") for w in extra]
        raise UsageError(f"{_verb_of(verb_parser.prog)}unrecognized arguments: {' '.join(words)}")
    return args


def _subparser(top: argparse.ArgumentParser, verb: str) -> argparse.ArgumentParser:
    for action in top._subparsers._group_actions if top._subparsers else ():
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[verb]
    raise AssertionError(verb)


_VERIFY_OPTIONS = ("--file", "--lang")


def formulas_last(argv: list[str]) -> list[str]:
    """For verify, options first and everything else after ``--``: a formula may start with '-'."""
    at = next((k for k, arg in enumerate(argv) if not arg.startswith("-")), None)
    if at is None or argv[at] != "verify" or "--" in argv:
        return argv
    options, rest, k = argv[: at + 1], [], at + 1
    while k < len(argv):
        arg = argv[k]
        if arg in _VERIFY_OPTIONS and k + 1 < len(argv):
            options += argv[k : k + 2]
            k += 2
            continue
        if arg.startswith(tuple(f"{o}=" for o in _VERIFY_OPTIONS)) or arg in ("-h", "--help", "--debug", "--quiet"):
            options.append(arg)
        else:
            rest.append(arg)
        k += 1
    return [*options, "--", *rest]
