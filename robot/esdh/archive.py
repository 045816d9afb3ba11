"""The embedded default: a local folder tree, one folder per person, PDF + JSON metadata."""

import json
import os
from pathlib import Path

from django.conf import settings

from . import CaseSystem, FilingRequest, TemporaryFilingError


class ArchiveCaseSystem(CaseSystem):
    """Idempotent by the certificate's reference: filing again returns the same reference."""

    can_find = True

    def __init__(self, root: str | None = None, *, throttle=None):
        # A local folder needs no rate limit: the throttle is accepted and not used.
        super().__init__()
        self.root = Path(root or settings.ESDH_ARCHIVE_DIR)

    def _paths(self, request: FilingRequest) -> tuple[Path, Path]:
        folder = self.root / request.person_key
        return folder / f"{request.reference}.pdf", folder / f"{request.reference}.json"

    def find(self, request: FilingRequest) -> str | None:
        pdf, meta = self._paths(request)
        return request.reference if pdf.exists() and meta.exists() else None

    def file(self, request: FilingRequest) -> str:
        if (found := self.find(request)) is not None:
            return found
        pdf, meta = self._paths(request)
        try:
            pdf.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            for path, data in (
                (pdf, request.content),
                (
                    meta,
                    json.dumps(
                        {
                            "reference": request.reference,
                            "name": request.document_name,
                            **request.metadata,
                        },
                        ensure_ascii=False,
                        indent=2,
                    ).encode(),
                ),
            ):
                tmp = path.with_suffix(path.suffix + ".tmp")
                tmp.write_bytes(data)
                os.chmod(tmp, 0o600)
                tmp.replace(path)  # whole files only, even after a crash
        except OSError as error:
            raise TemporaryFilingError(
                f"Arkivmappen kunne ikke skrives: {error.strerror}", uncertain=False
            ) from None
        return request.reference
