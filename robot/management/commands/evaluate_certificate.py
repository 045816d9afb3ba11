import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from robot.evaluation import Rules
from robot.models import RuleSet
from robot.reading import judge_file
from robot.rules import STANDARD_PHRASES, active_ruleset, rules_from


class Command(BaseCommand):
    help = (
        "Evaluate returned certificates (.pdf or forwarded .eml) with the active rules, "
        "or any version with --rules N. Judges exactly as the robot does, one line per "
        "certificate (each PDF attached to a message on its own line). Reads files and "
        "rules; writes nothing to the database."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument(
            "--json",
            action="store_true",
            help="One JSON object per certificate and line: file, kind, "
            "outcome, cpr, reason, and provenance (the checks that need "
            "no order: e-mail origin, digital signature).",
        )
        parser.add_argument(
            "--standard-rules",
            action="store_true",
            help="Use the built-in standard rules instead of the active version.",
        )
        parser.add_argument(
            "--rules",
            type=int,
            metavar="N",
            help="Use rules version N (e.g. a draft) instead of the active one.",
        )

    def handle(
        self,
        *args,
        files,
        json: bool = False,
        standard_rules: bool = False,
        rules: int | None = None,
        **options,
    ):
        rules = self._rules(standard_rules, rules)
        failed = 0
        for path in files:
            try:
                data = path.read_bytes()
            except OSError as error:
                failed += 1
                self.stderr.write(f"{path}: {error.strerror}")
                continue
            for row in _rows(judge_file(data, path.name, rules), path):
                if json:
                    self.stdout.write(_dumps(row))
                else:
                    checks = "".join(
                        f"; {check['name']}: {'ok' if check['passed'] else 'NEJ'}"
                        for check in row.get("provenance", [])
                    )
                    self.stdout.write(
                        f"{row['file']}: {row['outcome']} ({row['kind']}, cpr "
                        f"{row['cpr']}) – {row['reason']}{checks}"
                    )
        if failed:
            raise CommandError(f"{failed} file(s) could not be read.", returncode=1)

    def _rules(self, standard: bool, version: int | None = None) -> Rules:
        if version is not None:
            ruleset = RuleSet.objects.filter(version=version).first()
            if ruleset is None:
                raise CommandError(f"There is no rules version {version}.")
            return rules_from(ruleset)
        if not standard:
            ruleset = active_ruleset()
            if ruleset is not None:
                return rules_from(ruleset)
        kinds: dict[str, list[str]] = {}
        for role, code, text in STANDARD_PHRASES:
            if role == "kind":
                kinds.setdefault(code, []).append(text)
        return Rules.build(
            version=0,
            kinds=kinds,
            clean=[(c, t) for r, c, t in STANDARD_PHRASES if r == "clean"],
            registration=[(c, t) for r, c, t in STANDARD_PHRASES if r == "registration"],
            refusal=[t for r, c, t in STANDARD_PHRASES if r == "refusal"],
        )


def _rows(judged, path: Path) -> list[dict]:
    """One row per certificate; a message's attachments are named message/attachment."""
    if judged.problem is not None:
        return [{**judged.problem.as_json(str(path)), "provenance": []}]
    if judged.notice is None:
        return [judged.judgements[0].as_json(str(path))]
    return [judgement.as_json(f"{path}/{judgement.name}") for judgement in judged.judgements]


def _dumps(row: dict) -> str:
    return json.dumps(row, ensure_ascii=False)
