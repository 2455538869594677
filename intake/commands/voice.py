"""`intake voice prompts --lang LL --out DIR`: every prompt of a language, for a studio.

Writes `DIR/prompts.tsv` (a header, then one `file<TAB>text` line per prompt)
with the file names the service plays from `INTAKE_VOICE_PROMPTS_DIR/LL/`.
Recorded files go there as MP3; `intake routing check` then accepts LL on a
voice number even where Twilio has no voice for it.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from channels.voice.prompts import TEXTS, has_catalog, text
from channels.voice.speech import prompt_file_name
from intake.commands.base import Subparsers, UserError, out

LIST_NAME = "prompts.tsv"
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


def register(subcommands: Subparsers) -> None:
    voice = subcommands.add_parser("voice", help="the voice channel")
    actions = voice.add_subparsers(dest="voice_command", required=True)
    prompts = actions.add_parser("prompts", help="list a language's prompts to record")
    prompts.add_argument("--lang", required=True)
    prompts.add_argument("--out", required=True, type=Path)
    prompts.set_defaults(handler=run_prompts)


def prompt_lines(language: str) -> list[str]:
    """`file<TAB>text` per prompt (tabs and newlines in a text become spaces)."""
    lines = ["file\ttext"]
    for prompt in TEXTS:
        words = " ".join(text(prompt, language).split())
        lines.append(f"{prompt_file_name(prompt)}\t{words}")
    return lines


def run_prompts(args: argparse.Namespace) -> int:
    language = str(args.lang).strip().lower()
    if not _LANGUAGE.match(language):
        raise UserError("--lang must be a language code such as sw")
    folder: Path = args.out
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / LIST_NAME
        target.write_text("\n".join(prompt_lines(language)) + "\n", encoding="utf-8")
    except OSError as error:
        raise UserError(f"cannot write to {folder}: {error.strerror}") from None
    note = "" if has_catalog(language) else " (no translation yet: English texts)"
    out(f"{target}: {len(TEXTS)} prompts for {language}{note}; record each as MP3")
    return 0
