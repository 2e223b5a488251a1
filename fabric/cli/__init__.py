"""The command line: a thin layer over the library API.

Commands are imported lazily so ``python -m fabric --help`` does not pay for napalm or the
kubernetes client. ``run NAME`` resolves ``tasks/NAME.yaml``; its ``workflow`` key picks the
click command (from :data:`WORKFLOWS`) and its ``options`` become that command's defaults.

Only this package writes to the terminal and only :func:`main` turns
:class:`~fabric.errors.FabricError` into exit codes.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from fabric.errors import ExitCode, FabricError, ValidationError

#: Top-level commands: name -> "module:attribute" of a click command.
COMMANDS: dict[str, str] = {
    "demo": "fabric.cli.demo:demo_cmd",
    "validate": "fabric.cli.render:validate_cmd",
    "parse": "fabric.cli.parse:parse_cmd",
    "lab": "fabric.cli.lab:lab_group",
    "runs": "fabric.cli.deploy:runs_group",
    "confirm": "fabric.cli.schedule:confirm_cmd",
    "schedule": "fabric.cli.schedule:schedule_group",
    "scheduler": "fabric.cli.schedule:scheduler_cmd",
    "export": "fabric.cli.export:export_group",
}

#: Workflows a run definition (tasks/NAME.yaml, key ``workflow``) may name.
WORKFLOWS: dict[str, str] = {
    "render": "fabric.cli.render:render_cmd",
    "deploy": "fabric.cli.deploy:deploy_cmd",
    "rollback": "fabric.cli.deploy:rollback_cmd",
    "compliance": "fabric.cli.compliance:compliance_cmd",
}


def _load(spec: str) -> click.Command:
    module, _, attr = spec.partition(":")
    cmd = getattr(importlib.import_module(module), attr)
    if not isinstance(cmd, click.Command):
        raise TypeError(f"{spec} is not a click command")
    return cmd


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Eager and lazy command names, sorted."""
        return sorted([*super().list_commands(ctx), *self._lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import a lazy command on first use."""
        if cmd_name in self._lazy:
            return _load(self._lazy[cmd_name])
        return super().get_command(ctx, cmd_name)


class RunGroup(click.Group):
    """``run NAME``: one subcommand per run definition in ``tasks/``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The run definitions found in tasks/."""
        from fabric.rundefs import list_run_definitions

        return list_run_definitions()

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The workflow command of tasks/NAME.yaml with its options as defaults."""
        from fabric.rundefs import load_run_definition

        try:
            rundef = load_run_definition(cmd_name)
        except FabricError as exc:
            raise click.UsageError(str(exc)) from exc
        if rundef.workflow not in WORKFLOWS:
            raise click.UsageError(
                f"{rundef.file}: field workflow: unknown workflow {rundef.workflow!r} "
                f"(one of {', '.join(sorted(WORKFLOWS))})"
            )
        base = _load(WORKFLOWS[rundef.workflow])
        # A copy with the run definition's options as defaults (command line still wins).
        cmd = click.Command(
            name=cmd_name,
            callback=base.callback,
            params=[_with_default(p, rundef.options) for p in base.params],
            help=rundef.description or base.help,
            short_help=rundef.description or base.short_help,
        )
        return cmd


def _with_default(param: click.Parameter, options: dict[str, Any]) -> click.Parameter:
    if param.name in options and isinstance(param, click.Option):
        import copy

        p = copy.copy(param)
        p.default = options[param.name]
        return p
    return param


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fabric-netops", prog_name="fabric")
def cli() -> None:
    """Render, deploy and prove Calico-on-Arista BGP from one Nornir inventory."""


@cli.group(cls=RunGroup)
def run() -> None:
    """Run a definition from tasks/NAME.yaml (render, deploy, rollback, compliance ...)."""


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the CLI and map errors to exit codes."""
    try:
        cli.main(args=argv, prog_name="python -m fabric", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(ExitCode.INTERNAL)
    except click.ClickException as exc:
        exc.show()
        sys.exit(ExitCode.USAGE)
    except ValidationError as exc:
        for issue in exc.issues:
            click.echo(f"error: {issue}", err=True)
        sys.exit(exc.exit_code)
    except FabricError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    sys.exit(ExitCode.OK)
