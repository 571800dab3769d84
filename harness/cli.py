"""The ``harness`` command line. Heavy libraries are imported only inside commands that need
them, so ``harness --help`` and ``harness list`` stay fast."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from harness import __version__
from harness.errors import OutputError, RunIncomplete, UserError

WRITE_ONLY_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})
"""``errno`` values that only a write can raise: reported in one line wherever they surface."""


class HarnessGroup(click.Group):
    """A click group that turns user errors into one line and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UserError as err:
            if os.environ.get("HARNESS_DEBUG") or (ctx.obj or {}).get("debug"):
                raise
            click.echo(f"error: {err.one_line()}", err=True)
            ctx.exit(err.exit_code)
        except RunIncomplete as err:
            lines = err.lines()
            click.echo(f"error: {lines[0]}", err=True)
            for line in lines[1:]:
                click.echo(line, err=True)
            ctx.exit(err.exit_code)
        except click.UsageError as err:
            if os.environ.get("HARNESS_DEBUG") or (ctx.obj or {}).get("debug"):
                raise
            click.echo(f"error: {usage_error_line(err, ctx)}", err=True)
            ctx.exit(2)
        except OSError as err:
            # a write failure that no writer turned into an OutputError (e.g. inside a plugin)
            debug = os.environ.get("HARNESS_DEBUG") or (ctx.obj or {}).get("debug")
            if debug or err.errno not in WRITE_ONLY_ERRNOS:
                raise
            failure = OutputError(err.filename or "a file", err)
            click.echo(f"error: {failure.one_line()}", err=True)
            ctx.exit(failure.exit_code)


def usage_error_line(err: click.UsageError, ctx: click.Context) -> str:
    """A click usage error (bad flag value, unknown option) as ``field: problem; fix``."""
    where = (err.ctx or ctx).command_path
    problem = err.format_message()
    param = getattr(err, "param", None)
    if (
        isinstance(err, click.BadParameter)
        and not isinstance(err, click.MissingParameter)
        and param is not None
    ):
        names = [o for o in param.opts if o.startswith("--")] or list(param.opts)
        field = max(names, key=len) if names else param.human_readable_name
        problem = f"{field}: {err.message}"
    from harness.display import printable, shortened

    line = " ".join(f"{problem.rstrip('.')}; see `{where} --help`".split())
    return printable(shortened(line, 4_000))


@click.group(cls=HarnessGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="spec-harness")
@click.option("--debug", is_flag=True, help="Show full tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """spec-harness: evaluate text classifiers against specifications and compare fixes.

    Run `harness run` for the embedded demo.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    if debug:
        os.environ["HARNESS_DEBUG"] = "1"


def _add_builtin_commands(group: click.Group) -> None:
    import importlib

    from harness.commands import COMMAND_MODULES

    for module_name in COMMAND_MODULES:
        module = importlib.import_module(module_name)
        module.register(group)


def _add_plugin_commands(group: click.Group) -> None:
    from harness.plugins import call_hook

    call_hook("register_commands", cli=group)


_add_builtin_commands(cli)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``harness`` console script."""
    run: Callable[..., Any] = cli.main
    try:
        _add_plugin_commands(cli)
    except UserError as err:
        if os.environ.get("HARNESS_DEBUG") or "--debug" in (argv or sys.argv):
            raise
        click.echo(f"error: {err.one_line()}", err=True)
        sys.exit(err.exit_code)
    run(args=argv, prog_name="harness")
