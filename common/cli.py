"""The program shared by ``genmnist`` and ``genface``: parse the command line, run the
chosen command, turn its errors into one line.

A :class:`Family` says what differs between the two programs: their models, their data,
and the commands they offer (:class:`common.arguments.Command` objects, which each
program lists). Bad input is a :class:`~common.errors.UserError`, printed as one line
with exit status 2 (``--debug`` adds the traceback). Only the programs import this module.
"""

import argparse
import dataclasses
import sys
import traceback
from typing import Callable, Optional

from common.errors import UserError


@dataclasses.dataclass
class Family:
    """One program: ``genmnist`` (two models on 28x28 digits) or ``genface`` (96x96 faces)."""

    prog: str
    description: str
    recipes: dict
    default_model: str
    read_data: Callable  # (path or None, recipe, args) -> uint8 [N, H, W, C]
    data_help: str
    add_data_arguments: Optional[Callable] = None  # extra options for reading data
    # Those of them that change what is read (genface's resize, skip_bad): config.json records
    # the ones train was given, and --resume and evaluate read the run's data with them.
    data_options: tuple = ()
    generate_scale: bool = False  # offer --scale-factor (the original's imresize step)
    # (print_fn, data=None, images=None, options=None) -> a scorer (see common/evaluation.py);
    # data: the --data the generator learnt from, images: those images if already read,
    # options: the parsed command line.
    evaluator: Optional[Callable] = None
    add_evaluate_arguments: Optional[Callable] = None  # extra options for evaluate
    presets: dict = dataclasses.field(default_factory=dict)  # train --preset NAME: a common.settings.Preset
    commands: tuple = ()  # the common.arguments.Command objects the program offers, in --help's order
    names_data: Callable = lambda text: False  # whether a --data value names a data set, not a path
    default_data: str = "random pixels"  # compare's real images without --data, in a few words
    # (recipe, count, seed) -> uint8 images: compare's real images without --data (None: random pixels)
    default_images: Optional[Callable] = None


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line that says where to look, not a usage dump."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(family):
    parser = OneLineParser(prog=family.prog, description=family.description)
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    commands.required = True
    for command in family.commands:
        sub = commands.add_parser(command.name, help=command.help, description=command.help)
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                         help="show tracebacks of errors")
        command.add_arguments(sub, family)
    return parser


def main(family, argv=None):
    from common import interrupts

    interrupts.install()
    try:
        args = build_parser(family).parse_args(argv)
    except interrupts.Interrupted as exc:
        return exc.exit_code
    try:
        command = next(command for command in family.commands if command.name == args.command)
        return command.run(args, family)
    except (Exception, interrupts.Interrupted) as exc:  # one line for the user, the traceback on request
        if args.debug:
            traceback.print_exc()
        code = getattr(exc, "exit_code", None)
        if isinstance(exc, interrupts.Interrupted):
            print(f"{family.prog}: {exc}", file=sys.stderr)
        elif isinstance(exc, UserError) or code is not None:
            kind = "error: " if isinstance(exc, UserError) else ""
            print(f"{family.prog}: {kind}{exc}", file=sys.stderr)
        else:
            if not args.debug:
                print(f"{family.prog}: internal error: {exc.__class__.__name__}: {exc} "
                      f"(run with --debug for the traceback)", file=sys.stderr)
            return 1
        return code if code is not None else 2