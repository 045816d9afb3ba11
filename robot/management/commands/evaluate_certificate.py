import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from robot.evaluation import Rules
from robot.reading import evaluate_file
from robot.rules import STANDARD_PHRASES, active_ruleset, rules_from


class Command(BaseCommand):
    help = ("Evaluate returned certificates (.pdf or forwarded .eml) with the active rules. "
            "Reads files and rules; writes nothing to the database.")

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--json", action="store_true",
                            help="One JSON object per file and line: file, kind, outcome, cpr, reason.")
        parser.add_argument("--standard-rules", action="store_true",
                            help="Use the built-in standard rules instead of the active version.")

    def handle(self, *args, files, json: bool = False, standard_rules: bool = False, **options):
        rules = self._rules(standard_rules)
        failed = 0
        for path in files:
            try:
                data = path.read_bytes()
            except OSError as error:
                failed += 1
                self.stderr.write(f"{path}: {error.strerror}")
                continue
            result = evaluate_file(data, path.name, rules)
            row = result.as_json(str(path))
            if json:
                self.stdout.write(_dumps(row))
            else:
                self.stdout.write(f"{path}: {row['outcome']} ({row['kind']}, cpr {row['cpr']}) "
                                  f"– {row['reason']}")
        if failed:
            raise CommandError(f"{failed} file(s) could not be read.", returncode=1)

    def _rules(self, standard: bool) -> Rules:
        if not standard:
            ruleset = active_ruleset()
            if ruleset is not None:
                return rules_from(ruleset)
        kinds: dict[str, list[str]] = {}
        for role, code, text in STANDARD_PHRASES:
            if role == "kind":
                kinds.setdefault(code, []).append(text)
        return Rules.build(
            version=0, kinds=kinds,
            clean=[(c, t) for r, c, t in STANDARD_PHRASES if r == "clean"],
            registration=[(c, t) for r, c, t in STANDARD_PHRASES if r == "registration"],
            refusal=[t for r, c, t in STANDARD_PHRASES if r == "refusal"],
        )


def _dumps(row: dict) -> str:
    return json.dumps(row, ensure_ascii=False)
