"""Parsing untrusted PDFs and e-mail messages in a child process with CPU and memory limits.

A returned file is whatever someone sent us: a few kilobytes of PDF can keep pypdf busy
for minutes or make it allocate gigabytes, and a few hundred kilobytes of e-mail do the
same to the standard library's parser. So no web or worker process parses either
itself. Each process starts one small helper ("python -I sandbox.py", without Django)
that imports pypdf once; the helper forks a reader process that sets RLIMIT_AS for itself
and, before each document, an RLIMIT_CPU allowing that document its own CPU seconds. The
helper kills a reader that overruns the wall-clock limit and tells the caller how the
document ended and how much memory reading it took. A reader that breached a limit is
gone; one that grew is replaced after the document, so no memory is kept.

The reader does five things with a document (options["op"]): "read" its text and active
content (pypdf); judge its digital "signature" (pyHanko, robot/signature_check.py: a signed
file can carry an incremental update of 400,000 objects, a minute and gigabytes of
pyHanko's time); "merge" several PDFs into one for filing (pypdf copies whatever the
certificate's pages refer to); parse a received e-mail "message" into its text and PDF
attachments, and judge the "origin" of one by its DKIM signatures and
Authentication-Results (robot/message_parse.py, with the DNS answers the caller looked
up). pyHanko, and the e-mail modules with dkimpy, are imported by the helper on the first
document that needs them only, so that reading alone starts as fast as before.

The helper is started with an environment of its own (HELPER_ENVIRONMENT and an empty,
throwaway HOME): whatever a hostile file makes of the reader, it finds no secret key, CPR
keys, database or broker URLs there, and -I keeps PYTHON* variables and the current
directory out.

Why a reader for many documents and not a fresh child per document: a child forked per
document spends as long again on copy-on-write page faults and cold caches as on the
document (measured: 38 ms instead of 15 ms for a one-page certificate), which the
pipeline's rate cannot afford. The limits are per document either way.

Why not a process-pool library such as pebble (ProcessPool with max_tasks and a timeout
per task): its workers are multiprocessing processes, forked from the web or Celery
process (its memory, secrets included) or spawned with that process's whole environment
and its __main__ imported again (Django settings and all), and it has no per-task CPU or
memory limits, so the setrlimit code and its reporting stay ours. It would replace only
the framing below (some 100 lines), with a manager thread in every web and worker process
and pickling in place of a length-prefixed pipe; not a clear gain, so not switched.

This file has no Django and no project imports: it runs as a script in the helper. The
messages a person reads are made from its codes in robot/extraction.py,
robot/provenance_pdf.py, robot/filing.py, robot/mail.py and robot/provenance_mail.py.
"""

import base64
import json
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

# How a child ended, as the helper reports it.
DONE, CPU, MEMORY, TIMEOUT, CRASHED = "done", "cpu", "memory", "timeout", "crashed"
# What the reader does with a document (options["op"]).
READ, SIGNATURE, MERGE, MESSAGE, ORIGIN = "read", "signature", "merge", "message", "origin"

EXIT_MEMORY = 3
# A reader is replaced after this many documents, or once it holds this much more memory
# than when it started (pypdf's leftovers, a fragmented heap).
RECYCLE_AFTER = 500
RECYCLE_GROWTH_KB = 64 * 1024
# Whatever the PDF holds, a certificate's text is a few kilobytes a page.
MAX_TEXT_CHARS = 1_000_000
MAX_ANSWER_BYTES = 16 * 1024 * 1024
# A merged PDF is a certificate and a note, a few megabytes; the rest is room for the codes.
MAX_MERGED_BYTES = MAX_ANSWER_BYTES - 1024 * 1024
# Active content is looked for by walking the objects from the trailer; a certificate has
# a few hundred. Past these bounds (objects; nesting within one object) the check is
# incomplete, which is itself a doubt.
MAX_OBJECTS = 50_000
MAX_DEPTH = 100

# What the helper is given of the caller's environment: what Python and the C library
# need, nothing else. Keys, passwords and database or broker URLs stay in the caller.
HELPER_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR")
HOME_PREFIX = "pdf-sandbox-"


# --- In the reader: one PDF (pypdf only) -------------------------------------------------


def read_pdf(data: bytes, *, max_pages: int, min_text_chars: int) -> dict:
    """Text, page count and active content of a PDF, as codes for extraction.py."""
    from io import BytesIO

    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError

    answer = {
        "text": "",
        "problem": "",
        "args": {},
        "doubt": "",
        "doubt_args": {},
        "active": [],
        "active_complete": True,
    }
    try:
        reader = PdfReader(BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    return {**answer, "problem": "encrypted"}
            except (FileNotDecryptedError, NotImplementedError):
                return {**answer, "problem": "encrypted"}
        count = len(reader.pages)
        if count > max_pages:
            return {**answer, "problem": "pages", "args": {"count": count}}
        pages, size = [], 0
        for page in reader.pages:
            text = page.extract_text() or ""
            size += len(text)
            if size > MAX_TEXT_CHARS:
                return {**answer, "problem": "error", "args": {"error": "TooMuchText"}}
            pages.append(text)
        answer["text"] = "\n".join(pages)
        # A page that is an image (a scan) holds text the robot cannot read.
        for number, (page, text) in enumerate(zip(reader.pages, pages, strict=True), start=1):
            if len("".join(text.split())) < min_text_chars and _has_images(page):
                answer["doubt"], answer["doubt_args"] = "image_page", {"page": number}
                break
        answer["active"], answer["active_complete"] = find_active_content(reader)
    except MemoryError:
        raise
    except Exception as error:  # PyPdfError (LimitReachedError too) and plain errors alike
        if _caused_by_memory(error):
            raise MemoryError from error
        return {**answer, "text": "", "problem": "error", "args": {"error": type(error).__name__}}
    return answer


def _caused_by_memory(error: BaseException) -> bool:
    seen = 0
    while error is not None and seen < 20:
        if isinstance(error, MemoryError):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def _has_images(page) -> bool:
    from pypdf.errors import PyPdfError

    resources = page.get("/Resources") or {}
    xobjects = resources.get("/XObject") or {}
    try:
        return any(xobjects[name].get_object().get("/Subtype") == "/Image" for name in xobjects)
    except (PyPdfError, AttributeError, KeyError, TypeError):
        return True  # cannot tell: assume the worst


# What a viewer may run or open by itself. A /OpenAction that is only a destination (an
# array, or a /GoTo) is how most producers say "open at page 1", and is harmless.
_ACTIVE_KEYS = {
    "/JS": "javascript",
    "/JavaScript": "javascript",
    "/AA": "actions",
    "/EmbeddedFiles": "embedded_file",
    "/EF": "embedded_file",
    "/XFA": "xfa",
    "/RichMedia": "embedded_file",
}
_ACTIVE_VALUES = {
    ("/S", "/JavaScript"): "javascript",
    ("/S", "/Launch"): "launch",
    ("/S", "/SubmitForm"): "launch",
    ("/S", "/ImportData"): "launch",
    ("/Subtype", "/FileAttachment"): "embedded_file",
    ("/Type", "/EmbeddedFile"): "embedded_file",
    ("/Subtype", "/RichMedia"): "embedded_file",
}


def find_active_content(reader) -> tuple[list[str], bool]:
    """Kinds of active content reachable from the trailer, and whether every object was
    looked at. Iterative, with a visited set (cycles) and bounds on objects and depth."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    found, visited, complete = set(), set(), True
    stack = [(reader.trailer, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in visited:
                continue
            visited.add(key)
            if len(visited) > MAX_OBJECTS:
                return sorted(found), False
            try:
                item = item.get_object()
            except Exception:  # a broken reference: what it hides was not checked
                complete = False
                continue
        if depth > MAX_DEPTH:
            complete = False
            continue
        if isinstance(item, DictionaryObject):
            for name, value in item.items():
                if name in _ACTIVE_KEYS:
                    found.add(_ACTIVE_KEYS[name])
                if isinstance(value, NameObject) and (name, value) in _ACTIVE_VALUES:
                    found.add(_ACTIVE_VALUES[(name, value)])
                if name == "/OpenAction":
                    try:
                        action = value.get_object()
                    except Exception:
                        complete = False
                        continue
                    if isinstance(action, DictionaryObject) and action.get("/S") != "/GoTo":
                        found.add("open_action")
                stack.append((value, _depth(value, depth)))
        elif isinstance(item, ArrayObject):
            stack.extend((value, _depth(value, depth)) for value in item)
    return sorted(found), complete


def _depth(value, depth: int) -> int:
    # Depth counts nesting within one object; a reference starts afresh (the visited set
    # bounds those), so a long /Next chain of bookmarks is not "too deep".
    from pypdf.generic import IndirectObject

    return 0 if isinstance(value, IndirectObject) else depth + 1


# --- In the reader: signatures (pyHanko), merging PDFs (pypdf), e-mail (message_parse) ---

_modules: dict = {}


def _project_module(name: str):
    """robot/<name>.py (signature_check, message_parse): imported as robot.<name> in the
    caller's process, and loaded by its path in the helper, which runs with -I, so without
    this directory on sys.path. Imported in the helper on the first document that needs it,
    so that readers forked from then on share its imports (pyHanko's 0.6 s, dkimpy's 0.5 s)
    while reading alone does not pay them."""
    if name not in _modules:
        if __package__:
            import importlib

            module = importlib.import_module(f"{__package__}.{name}")
        else:
            import importlib.util

            path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        _modules[name] = module
    return _modules[name]


def judge_signature(data: bytes, trust_anchor_pems: list[bytes]) -> dict:
    """The verdict of robot/signature_check.py as codes; "error" with the exception's name
    for what pyHanko cannot cope with."""
    try:
        return _project_module("signature_check").check(data, trust_anchor_pems)
    except MemoryError:
        raise
    except Exception as error:
        if _caused_by_memory(error):
            raise MemoryError from error
        return {"status": "error", "code": "error", "signer": "", "error": type(error).__name__}


def merge_pdfs(parts: list[bytes]) -> tuple[dict, bytes]:
    """The pages of all parts, in order, as one PDF; or a problem code and no PDF."""
    from io import BytesIO

    from pypdf import PdfReader, PdfWriter

    try:
        writer = PdfWriter()
        for part in parts:
            writer.append(PdfReader(BytesIO(part), strict=False))
        out = BytesIO()
        writer.write(out)
    except MemoryError:
        raise
    except Exception as error:
        if _caused_by_memory(error):
            raise MemoryError from error
        return {"problem": "error", "args": {"error": type(error).__name__}}, b""
    if out.tell() > MAX_MERGED_BYTES:
        return {"problem": "too_big", "args": {"mb": out.tell() // (1024 * 1024)}}, b""
    return {"problem": "", "args": {}}, out.getvalue()


def parse_email(data: bytes) -> tuple[dict, bytes]:
    """The text and attachments of an e-mail (robot/message_parse.py), the PDFs' bytes
    after the answer; "error" with the exception's name for what the parser cannot read."""
    try:
        return _project_module("message_parse").parse(data)
    except MemoryError:
        raise
    except Exception as error:
        if _caused_by_memory(error):
            raise MemoryError from error
        answer = {"subject": "", "text": "", "pdfs": [], "others": []}
        return {**answer, "problem": "error", "args": {"error": type(error).__name__}}, b""


def judge_origin(data: bytes, options: dict) -> dict:
    """Who forwarded an e-mail, as codes (robot/message_parse.py); never raises but for
    memory."""
    try:
        return _project_module("message_parse").check_origin(
            data,
            trusted_senders=options["trusted_senders"],
            trusted_authserv_ids=options["trusted_authserv_ids"],
            records=options["records"],
        )
    except MemoryError:
        raise
    except Exception as error:
        if _caused_by_memory(error):
            raise MemoryError from error
        return {"trusted": False, "method": "", "code": "unreadable", "args": {}, "sender": ""}


def _do(op: str, data: bytes, options: dict) -> tuple[dict, bytes]:
    """One document's work in the reader: a JSON-able answer, and bytes (a merged PDF, the
    PDFs attached to a message)."""
    if op == READ:
        answer = read_pdf(
            data, max_pages=options["max_pages"], min_text_chars=options["min_text_chars"]
        )
        return answer, b""
    if op == SIGNATURE:
        anchors = [base64.b64decode(pem) for pem in options["anchors"]]
        return judge_signature(data, anchors), b""
    if op == MERGE:
        parts, start = [], 0
        for size in options["sizes"]:
            parts.append(data[start : start + size])
            start += size
        return merge_pdfs(parts)
    if op == MESSAGE:
        return parse_email(data)
    if op == ORIGIN:
        return judge_origin(data, options), b""
    raise ValueError(op)


def _die_with_parent() -> None:
    # The helper is single-threaded, so "parent" here means the helper process itself.
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


# --- Framing, for the caller, the helper and the reader alike ----------------------------


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _send(fd: int, meta: dict, payload: bytes = b"") -> None:
    encoded = json.dumps(meta).encode()
    _write_all(fd, struct.pack("!IQ", len(encoded), len(payload)) + encoded + payload)


# --- In the reader: documents one at a time, each under its own CPU limit -----------------


def _reader(request_fd: int, answer_fd: int, memory_mb: int) -> None:
    """Runs in the forked reader: limits first, then untrusted documents. Never returns."""
    import resource

    code = 0
    try:
        _die_with_parent()
        memory = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        hard_cpu = resource.getrlimit(resource.RLIMIT_CPU)[1]
        baseline, count = _status_kb("VmRSS"), 0
        while True:
            request = _read_request(request_fd)
            if request is None:
                break
            options, data = request
            count += 1
            used = _cpu_used()
            # RLIMIT_CPU counts the whole process: the soft limit moves on per document.
            soft = int(used + max(1.0, options["cpu_seconds"]) + 0.999)
            resource.setrlimit(
                resource.RLIMIT_CPU,
                (soft, hard_cpu if hard_cpu == resource.RLIM_INFINITY else max(soft, hard_cpu)),
            )
            _reset_peak()
            status, payload, answer_size = DONE, b"", 0
            try:
                answer, blob = _do(options.get("op", READ), data, options)
                del data
                encoded = json.dumps(answer).encode()
                answer_size, payload = len(encoded), encoded + blob
                del answer, blob, encoded
            except MemoryError:
                status, payload = MEMORY, b""
            recycle = (
                status != DONE
                or count >= options.get("recycle_after", RECYCLE_AFTER)
                or _status_kb("VmRSS") > baseline + RECYCLE_GROWTH_KB
            )
            _send(
                answer_fd,
                {
                    "status": status,
                    "peak_kb": _status_kb("VmHWM"),
                    "cpu_seconds": round(_cpu_used() - used, 3),
                    "recycle": recycle,
                    "answer_size": answer_size,
                },
                payload,
            )
            if recycle:
                code = EXIT_MEMORY if status == MEMORY else 0
                break
    except MemoryError:
        code = EXIT_MEMORY
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _read_request(fd: int) -> tuple[dict, bytes] | None:
    head = _read_exact(fd, 4)
    if head is None:
        return None
    options = json.loads(_read_exact(fd, struct.unpack("!I", head)[0]))
    data = _read_exact(fd, options["size"])
    return None if data is None else (options, data)


def _cpu_used() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _status_kb(field: str) -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _reset_peak() -> None:
    # So that VmHWM afterwards is this document's peak, not the reader's lifetime peak.
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass


# --- In the helper: one reader at a time, watched ----------------------------------------


@dataclass
class _Child:
    pid: int
    request_fd: int
    answer_fd: int
    memory_mb: int


_reader_child: _Child | None = None


def _start_reader(memory_mb: int) -> _Child:
    request_read, request_write = os.pipe()
    answer_read, answer_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, _PROTOCOL_OUT):
            os.dup2(null, fd)
        os.close(request_write)
        os.close(answer_read)
        _reader(request_read, answer_write, memory_mb)
    os.close(request_read)
    os.close(answer_write)
    return _Child(pid, request_write, answer_read, memory_mb)


def _end_reader(child: _Child, *, kill: bool, deadline: float):
    """Close the pipes and reap the reader; returns its wait status and resource usage."""
    global _reader_child
    _reader_child = None
    for fd in (child.request_fd, child.answer_fd):
        os.close(fd)
    if kill:
        os.kill(child.pid, signal.SIGKILL)
    return _reap(child.pid, deadline)


def _run_one(data: bytes, options: dict) -> tuple[dict, bytes]:
    global _reader_child
    module = _MODULE_OF.get(options.get("op"))
    if module and module not in _tried:
        _load(module)
        if _reader_child is not None:  # forked without it: the next reader shares it
            _end_reader(_reader_child, kill=False, deadline=time.monotonic() + 2)
    started = time.monotonic()
    deadline = started + options["wall_seconds"]
    child = _reader_child
    if child is not None and child.memory_mb != options["memory_mb"]:
        _end_reader(child, kill=True, deadline=deadline)
        child = None
    if child is None:
        child = _reader_child = _start_reader(options["memory_mb"])
    status, detail, meta, payload = "", "", {}, b""
    request = json.dumps(options).encode()
    request = struct.pack("!I", len(request)) + request + data
    try:
        try:
            _write_all(child.request_fd, request)
        except BrokenPipeError:  # the idle reader was killed from outside: a new one
            _end_reader(child, kill=True, deadline=deadline)
            child = _reader_child = _start_reader(options["memory_mb"])
            _write_all(child.request_fd, request)
        head = _read_until(child.answer_fd, 12, deadline)
        meta_size, payload_size = struct.unpack("!IQ", head)
        if payload_size > MAX_ANSWER_BYTES:
            status, detail = CRASHED, "TooMuchOutput"
        else:
            meta = json.loads(_read_until(child.answer_fd, meta_size, deadline))
            payload = _read_until(child.answer_fd, payload_size, deadline)
            status = meta["status"]
    except TimeoutError:
        status = TIMEOUT
    except (OSError, EOFError, ValueError, struct.error):
        pass  # the reader died: its exit status says why
    maxrss_kb, cpu = meta.get("peak_kb", 0), meta.get("cpu_seconds", 0.0)
    if status in (DONE, MEMORY) and not meta.get("recycle"):
        pass  # the reader stays for the next document
    else:
        wait_status, usage = _end_reader(
            child, kill=status in (TIMEOUT, CRASHED), deadline=max(deadline, time.monotonic() + 2)
        )
        maxrss_kb = maxrss_kb or usage.ru_maxrss
        cpu = cpu or usage.ru_utime + usage.ru_stime  # the reader's, all documents included
        if not status:
            status, detail = _why_it_ended(wait_status)
            if (
                status == CRASHED
                and detail in _CRASH_SIGNALS
                and maxrss_kb >= options["memory_mb"] * 1024 * NEAR_THE_LIMIT
            ):
                # Out of address space, some code crashes instead of raising MemoryError
                # (CPython 3.11 itself, in asyncio under pyHanko: a SIGSEGV in enum).
                status = MEMORY
    header = {
        "status": status,
        "detail": detail,
        "maxrss_kb": maxrss_kb,
        "cpu_seconds": round(cpu, 3),
        "wall_seconds": round(time.monotonic() - started, 3),
        "answer_size": meta.get("answer_size", 0),
    }
    return header, (payload if status == DONE else b"")


# The project module each operation needs beyond pypdf, imported by the helper once.
_MODULE_OF = {SIGNATURE: "signature_check", MESSAGE: "message_parse", ORIGIN: "message_parse"}
_tried: set = set()


def _load(name: str) -> None:
    import gc

    _tried.add(name)
    try:
        module = _project_module(name)
        if name == "message_parse":
            # What parsing any message imports on first use (header classes, charsets,
            # dkimpy and dnspython): once here rather than in every reader.
            import dkim  # noqa: F401

            module.parse(_WARM_UP_MESSAGE)
    except Exception:  # then each reader tries, and answers with the error
        return
    gc.freeze()


_WARM_UP_MESSAGE = (
    b"From: a@example.org\r\nSubject: =?utf-8?q?Hej_=C3=A6=C3=B8=C3=A5?=\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
    b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n\r\nHej =C3=A6\r\n"
    b'--b\r\nContent-Type: application/pdf; name="a.pdf"\r\n'
    b"Content-Disposition: attachment; filename*=utf-8''%C3%A6.pdf\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n"
)


# A reader that crashed (these signals) with its resident memory at this share of its
# address-space limit or more is taken to have run out of memory.
_CRASH_SIGNALS = {"SIGSEGV", "SIGBUS", "SIGABRT"}
NEAR_THE_LIMIT = 0.6


def _why_it_ended(wait_status: int) -> tuple[str, str]:
    if os.WIFEXITED(wait_status):
        code = os.WEXITSTATUS(wait_status)
        return (MEMORY, "") if code == EXIT_MEMORY else (CRASHED, f"exit {code}")
    number = os.WTERMSIG(wait_status)
    if number == signal.SIGXCPU:
        return CPU, ""
    return CRASHED, signal.Signals(number).name


def _read_until(fd: int, size: int, deadline: float) -> bytes:
    chunks, left = [], size
    while left:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise TimeoutError
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _reap(pid: int, deadline: float):
    # A reader that closed its pipes and went on running is killed at the deadline.
    while True:
        reaped, wait_status, usage = os.wait4(pid, os.WNOHANG)
        if reaped:
            return wait_status, usage
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            _, wait_status, usage = os.wait4(pid, 0)
            return wait_status, usage
        time.sleep(0.0005)


_PROTOCOL_OUT = -1


def _warm_up() -> None:
    """Import and exercise what reading needs, so each forked reader need not."""
    from io import BytesIO

    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=200)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    content = DecodedStreamObject()
    content.set_data(b"BT /F1 12 Tf 10 10 Td (Hej \\346\\370\\345) Tj ET")
    content = content.flate_encode()
    page[NameObject("/Contents")] = writer._add_object(content)
    out = BytesIO()
    writer.write(out)
    read_pdf(out.getvalue(), max_pages=1, min_text_chars=1)
    import ctypes  # noqa: F401  (used by every reader)
    import encodings.utf_16_be  # noqa: F401  (text strings with a byte order mark)
    import resource  # noqa: F401

    import pypdf._cmap  # noqa: F401
    import pypdf._text_extraction  # noqa: F401
    import pypdf.filters  # noqa: F401


def serve() -> None:
    """The helper's loop: requests on stdin, answers on (what was) stdout, until EOF (the
    caller ended), which also ends the reader: its request pipe closes."""
    global _PROTOCOL_OUT
    import gc
    import logging

    # Anything printed by accident must not end up in the answers.
    _PROTOCOL_OUT = os.dup(1)
    os.dup2(2, 1)
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)  # a hostile file, not news
    logging.getLogger("dkim").setLevel(logging.CRITICAL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is for the parent to handle
    _warm_up()
    gc.freeze()  # fewer copy-on-write pages in every reader
    while True:
        request = _read_request(0)
        if request is None:
            break
        header, payload = _run_one(request[1], request[0])
        _send(_PROTOCOL_OUT, header, payload)
    if _reader_child is not None:  # the reader ends at EOF; wait for it, leave no orphan
        _end_reader(_reader_child, kill=False, deadline=time.monotonic() + 2)
    # The caller may end without closing us (a worker's exit): the throwaway HOME it made
    # for us goes with us. Only that one: never a home this script was run with by hand.
    home = os.environ.get("HOME", "")
    if (
        os.path.basename(home).startswith(HOME_PREFIX)
        and os.path.dirname(home) == tempfile.gettempdir()
    ):
        shutil.rmtree(home, ignore_errors=True)


# --- In the caller: the helper of this process -------------------------------------------


@dataclass
class Outcome:
    """How one document's work in the sandbox ended."""

    status: str
    detail: str = ""
    answer: dict = field(default_factory=dict)
    maxrss_kb: int = 0  # the reader's peak resident memory for this document
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    content: bytes = b""  # a merged PDF


class Sandbox:
    """One helper process, started on first use and again if it dies. Thread-safe; a
    forked copy of the caller starts a helper of its own."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._owner = 0
        self._home = ""

    def read(
        self,
        data: bytes,
        *,
        cpu_seconds: float,
        memory_mb: int,
        wall_seconds: float,
        max_pages: int,
        min_text_chars: int,
        recycle_after: int = RECYCLE_AFTER,
    ) -> Outcome:
        """Text, page count and active content of one PDF (see read_pdf)."""
        return self._run(
            data,
            {
                "op": READ,
                "cpu_seconds": cpu_seconds,
                "memory_mb": memory_mb,
                "wall_seconds": wall_seconds,
                "max_pages": max_pages,
                "min_text_chars": min_text_chars,
                "recycle_after": recycle_after,
            },
        )

    def check_signature(
        self,
        data: bytes,
        *,
        trust_anchor_pems: list[bytes],
        cpu_seconds: float,
        memory_mb: int,
        wall_seconds: float,
    ) -> Outcome:
        """The verdict on a PDF's digital signatures (robot/signature_check.py)."""
        return self._run(
            data,
            {
                "op": SIGNATURE,
                "anchors": [base64.b64encode(bytes(pem)).decode() for pem in trust_anchor_pems],
                "cpu_seconds": cpu_seconds,
                "memory_mb": memory_mb,
                "wall_seconds": wall_seconds,
            },
        )

    def merge(
        self, parts: list[bytes], *, cpu_seconds: float, memory_mb: int, wall_seconds: float
    ) -> Outcome:
        """The PDFs' pages in order as one PDF, in Outcome.content."""
        return self._run(
            b"".join(parts),
            {
                "op": MERGE,
                "sizes": [len(part) for part in parts],
                "cpu_seconds": cpu_seconds,
                "memory_mb": memory_mb,
                "wall_seconds": wall_seconds,
            },
        )

    def read_message(
        self, data: bytes, *, cpu_seconds: float, memory_mb: int, wall_seconds: float
    ) -> Outcome:
        """The text and attachments of an e-mail message (see parse_email); the PDFs'
        bytes, in the order of answer["pdfs"], in Outcome.content."""
        return self._run(
            data,
            {
                "op": MESSAGE,
                "cpu_seconds": cpu_seconds,
                "memory_mb": memory_mb,
                "wall_seconds": wall_seconds,
            },
        )

    def check_origin(
        self,
        data: bytes,
        *,
        trusted_senders: list[str],
        trusted_authserv_ids: list[str],
        records: dict[str, str | None] | None,
        cpu_seconds: float,
        memory_mb: int,
        wall_seconds: float,
    ) -> Outcome:
        """Who forwarded an e-mail message (robot/message_parse.py check_origin)."""
        return self._run(
            data,
            {
                "op": ORIGIN,
                "trusted_senders": list(trusted_senders),
                "trusted_authserv_ids": list(trusted_authserv_ids),
                "records": records,
                "cpu_seconds": cpu_seconds,
                "memory_mb": memory_mb,
                "wall_seconds": wall_seconds,
            },
        )

    def _run(self, data: bytes, options: dict) -> Outcome:
        options = {**options, "size": len(data)}
        with self._lock:
            process = self._helper()
            try:
                encoded = json.dumps(options).encode()
                process.stdin.write(struct.pack("!I", len(encoded)) + encoded)
                process.stdin.write(data)
                process.stdin.flush()
                # The helper answers within the wall-clock limit; more means it is stuck.
                header, payload = self._answer(
                    process, time.monotonic() + options["wall_seconds"] + 10
                )
            except (OSError, EOFError, ValueError, struct.error) as error:
                self._stop()
                return Outcome(status=CRASHED, detail=f"helper: {type(error).__name__}")
            except BaseException:
                # Interrupted mid-answer (a task's soft time limit, Ctrl-C): the next
                # caller must not read this answer as its own.
                self._stop()
                raise
        answer, content = {}, b""
        if header["status"] == DONE:
            size = header["answer_size"]
            answer, content = json.loads(payload[:size]), payload[size:]
        return Outcome(
            status=header["status"],
            detail=header["detail"],
            answer=answer,
            maxrss_kb=header["maxrss_kb"],
            cpu_seconds=header["cpu_seconds"],
            wall_seconds=header["wall_seconds"],
            content=content,
        )

    @staticmethod
    def _answer(process: subprocess.Popen, deadline: float) -> tuple[dict, bytes]:
        fd = process.stdout.fileno()
        header_size, payload_size = struct.unpack("!IQ", _read_until(fd, 12, deadline))
        header = json.loads(_read_until(fd, header_size, deadline))
        return header, _read_until(fd, payload_size, deadline)

    def _helper(self) -> subprocess.Popen:
        if self._process is not None and (
            self._owner != os.getpid() or self._process.poll() is not None
        ):
            self._stop()
        if self._process is None:
            # -I: no PYTHONPATH, no current directory, no user site: only pypdf and pyHanko
            # from the interpreter's own packages, and this file. A HOME of its own, empty,
            # and removed with the helper: nothing of the caller's user to read or leave.
            self._home = tempfile.mkdtemp(prefix=HOME_PREFIX)
            environment = {
                name: os.environ[name] for name in HELPER_ENVIRONMENT if name in os.environ
            }
            environment.setdefault("PATH", os.defpath)
            environment["HOME"] = self._home
            self._process = subprocess.Popen(
                [sys.executable, "-I", os.path.abspath(__file__)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                close_fds=True,
                env=environment,
                cwd=self._home,
            )
            self._owner = os.getpid()
        return self._process

    def _stop(self, *, wait: float = 0) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        # In a forked copy the helper is the parent's: close our ends and leave it alone.
        for pipe in (process.stdin, process.stdout):
            try:
                pipe.close()
            except OSError:
                pass
        if self._owner == os.getpid():
            try:
                process.wait(timeout=wait)  # at EOF the helper ends its reader, then itself
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            shutil.rmtree(self._home, ignore_errors=True)

    def close(self) -> None:
        """End the helper and its reader (they end by themselves when this process does)."""
        with self._lock:
            self._stop(wait=5)

    def _after_fork_in_child(self) -> None:
        # A forked process (a Celery or multiprocessing worker) must never talk to its
        # parent's helper, and should not keep the helper's stdin open after the parent
        # ends. If another thread was talking to it at the fork, the pipes' own locks may
        # be held in this copy: then they are only forgotten, never touched.
        busy, self._lock = self._lock.locked(), threading.Lock()
        if self._process is not None and busy:
            _forgotten.append(self._process)
            self._process = None
        elif self._process is not None:
            self._stop()


_forgotten: list = []
_sandbox = Sandbox()
os.register_at_fork(after_in_child=_sandbox._after_fork_in_child)


def read(data: bytes, **limits) -> Outcome:
    """Read one PDF in the reader of this process's helper (see Sandbox.read)."""
    return _sandbox.read(data, **limits)


def check_signature(data: bytes, **options) -> Outcome:
    """Judge a PDF's digital signatures in the reader (see Sandbox.check_signature)."""
    return _sandbox.check_signature(data, **options)


def merge(parts: list[bytes], **limits) -> Outcome:
    """Merge PDFs in the reader (see Sandbox.merge)."""
    return _sandbox.merge(parts, **limits)


def read_message(data: bytes, **limits) -> Outcome:
    """Parse an e-mail message in the reader (see Sandbox.read_message)."""
    return _sandbox.read_message(data, **limits)


def check_origin(data: bytes, **options) -> Outcome:
    """Judge who forwarded an e-mail message, in the reader (see Sandbox.check_origin)."""
    return _sandbox.check_origin(data, **options)


if __name__ == "__main__":
    serve()
