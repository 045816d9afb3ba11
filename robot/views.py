"""Payroll's intake, queue and review of returned certificates. Payroll only; 404 otherwise."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.db.models import Count
from django.forms import Form
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseGone
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import push_url

from orders.models import AccessLog, CertificateKind, OrderLine
from portal.decorators import payroll_or_staff_required, payroll_required, staff_required
from portal.listing import COUNT_LIMIT, Sort, ordering_for, paginate, sort_choices

from . import filing, services, trial
from .forms import (
    AssessmentForm,
    DiscardForm,
    DocumentFilterForm,
    OriginForm,
    OverruleForm,
    ResolveForm,
    SecondAnswerForm,
    UploadForm,
    too_large,
)
from .intake import document_path, ingest, received_before
from .models import Assessment, Document, FilingJob, ModeSwitch, Phrase, Proposal, Upload
from .today import payroll_day


@never_cache
@payroll_required
@require_GET
def today(request: HttpRequest) -> HttpResponse:
    """Payroll's start page: what waits for a person, counted, in the order to do it."""
    return render(
        request,
        "robot/today.html",
        {"day": payroll_day(user=request.user), "date": timezone.localdate()},
    )


def _ingest_upload(file, statement: Upload) -> tuple[Document, bool]:
    return ingest(
        file.chunks(),
        filename=file.name,
        source=Document.Source.UPLOAD,
        upload=statement,
        by=statement.by,
    )


@payroll_required
@require_http_methods(["GET", "POST"])
def intake(request: HttpRequest) -> HttpResponse:
    """Upload many files at once; without JavaScript they are posted together."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        uploads = form.cleaned_data["files"]
        statement = services.record_upload(by=request.user, origin=form.cleaned_data["origin"])
        results = [_ingest_upload(upload, statement) for upload in uploads]
        new = sum(created for _, created in results)
        messages.success(
            request,
            _("%(new)d of %(total)d files received; the rest had been received before.")
            % {"new": new, "total": len(results)},
        )
        for upload, (document, created) in zip(uploads, results, strict=True):
            if not created:  # say where it is, as the per-file upload does
                messages.info(request, received_before(document, name=upload.name))
        return redirect("robot:queue")
    recent = list(
        Document.objects.filter(parent__isnull=True)
        .select_related("line__order", "line__kind")
        .order_by("-received_at")[:20]
    )
    services.log_documents_listed(user=request.user, documents=recent)
    return render(request, "robot/intake.html", {"form": form, "recent": recent})


@payroll_required
@require_POST
def upload_one(request: HttpRequest) -> HttpResponse:
    """One file from the upload page's script; answers with the file's row."""
    upload = request.FILES.get("file")
    if upload is None:
        return HttpResponse(_("No file was received."), status=400)
    origin = OriginForm(request.POST)
    problem = too_large(upload) or (
        "" if origin.is_valid() else " ".join(origin.errors.get("origin", []))
    )
    if problem:
        # Refused at the door: nothing is stored, and the row says why.
        return render(request, "robot/intake.html#row", {"name": upload.name, "problem": problem})
    statement = services.record_upload(by=request.user, origin=origin.cleaned_data["origin"])
    document, created = _ingest_upload(upload, statement)
    document.refresh_from_db()  # without a broker it has been read already
    services.log_documents_listed(user=request.user, documents=[document])
    return render(
        request,
        "robot/intake.html#row",
        {"document": document, "created": created, "name": upload.name},
    )


@payroll_required
@require_GET
def document_row(request: HttpRequest, pk: int) -> HttpResponse:
    """The upload page asks again until a worker has read the file."""
    document = get_object_or_404(
        Document.objects.select_related("line__order", "line__kind"), pk=pk
    )
    services.log_documents_listed(user=request.user, documents=[document])
    return render(request, "robot/intake.html#row", {"document": document})


DOCUMENTS_PER_PAGE = 50


@payroll_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    counts = dict(
        Document.objects.filter(state__in=Document.QUEUE_STATES)
        .values_list("state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    filters = DocumentFilterForm(request.GET)
    documents = filters.filter(
        Document.objects.filter(state__in=Document.QUEUE_STATES).select_related(
            "kind", "line__order__unit", "person"
        )
    )
    page = paginate(documents, request, per_page=DOCUMENTS_PER_PAGE)
    services.log_documents_listed(user=request.user, documents=page.object_list)
    tabs = [
        (value, label, counts.get(value, 0))
        for value, label in Document.State.choices
        if value in Document.QUEUE_STATES
        # Without four eyes nothing ever waits for a colleague: no tab that stays empty.
        and (
            value != Document.State.AWAITING_APPROVAL
            or settings.REVIEW_FOUR_EYES
            or counts.get(value)
        )
    ]
    context = {
        "documents": page.object_list,
        "page": page,
        "filters": filters,
        "query": filters.clean_query(),
        "tabs": tabs,
        "state": filters.cleaned_data.get("state") if filters.is_valid() else None,
        "total": sum(counts.values()),
    }
    if not request.htmx:
        return render(request, "robot/queue.html", context)
    response = render(request, "robot/queue.html#table", context)
    if not filters.is_valid():
        # Keep the refused text (perhaps a CPR number) out of the address bar and history.
        return push_url(response, reverse("robot:queue") + "?" + filters.clean_query())
    return response


def _candidates(document: Document):
    lines = OrderLine.objects.filter(
        status__in=[OrderLine.Status.NEW, OrderLine.Status.ORDERED]
    ).select_related("order__unit", "kind", "person")
    if document.kind_id:
        # Only lines it can answer: the service refuses another kind anyway.
        lines = lines.filter(kind_id=document.kind_id)
    if document.person_id:
        return lines.filter(person_id=document.person_id)
    return lines.filter(status=OrderLine.Status.ORDERED).order_by("order__full_name")[:300]


@never_cache
@payroll_required
@require_GET
def document_detail(request: HttpRequest, pk: int) -> HttpResponse:
    document = get_object_or_404(
        Document.objects.select_related("kind", "person", "line__order__unit", "line__kind"), pk=pk
    )
    services.log_document_access(
        user=request.user, document=document, action=AccessLog.Action.VIEW_DOCUMENT
    )
    return render(request, "robot/document.html", _document_context(document))


def _document_context(document: Document, **forms) -> dict:
    evaluation = document.latest_evaluation
    roles = dict(Phrase.Role.choices)
    evidence = [
        {**hit, "role_label": roles.get(hit["role"], hit["role"])}
        for hit in (evaluation.evidence if evaluation else [])
    ]
    proposal = Proposal.objects.filter(document=document).select_related("decided_by").first()
    return {
        "document": document,
        "evaluation": evaluation,
        "evidence": evidence,
        "provenance": evaluation.provenance if evaluation else [],
        "proposal": proposal,
        "overrule_form": forms.get("overrule_form") or OverruleForm(),
        "assessment": document.assessments.select_related("assessed_by", "approved_by").first(),
        "assessment_form": forms.get("assessment_form") or AssessmentForm(),
        "resolve_form": forms.get("resolve_form") or ResolveForm(**_resolve_kwargs(document)),
        "discard_form": forms.get("discard_form") or DiscardForm(),
        "second_answer_form": forms.get("second_answer_form") or SecondAnswerForm(),
        "earlier_answers": services.earlier_answers(document)
        if document.state == Document.State.SECOND_ANSWER
        else [],
        "channel_warning": trial.channel_unproven(proposal)
        if proposal and not proposal.decided
        else "",
        "confirm": forms.get("confirm"),
        "four_eyes": settings.REVIEW_FOUR_EYES,
        "is_pdf": _is_pdf(document),
        "attachments": document.message_attachments() if document.is_message else [],
    }


def _is_pdf(document: Document) -> bool:
    """Only a PDF gets a preview: anything else would show an empty frame."""
    path = document_path(document)
    if not path.exists():
        return False
    with path.open("rb") as head:
        return head.read(5) == b"%PDF-"


def _resolve_kwargs(document: Document) -> dict:
    return {
        "candidates": _candidates(document),
        "not_clean_only": document.outcome == Document.Outcome.NOT_CLEAN,
    }


@never_cache
@payroll_required
@require_GET
def document_file(request: HttpRequest, pk: int) -> FileResponse:
    document = get_object_or_404(Document.objects.select_related("line__order"), pk=pk)
    if not document_path(document).exists():
        return HttpResponseGone(
            _(
                "The file has been deleted from the portal under the retention "
                "rules; the case system keeps what was filed."
            )
        )
    services.log_document_access(
        user=request.user, document=document, action=AccessLog.Action.VIEW_DOCUMENT
    )
    with document_path(document).open("rb") as head:
        is_pdf = head.read(5) == b"%PDF-"
    response = FileResponse(
        document_path(document).open("rb"),
        content_type="application/pdf" if is_pdf else "application/octet-stream",
        as_attachment=not is_pdf,
        filename=f"dokument-{document.pk}" + (".pdf" if is_pdf else ".bin"),
    )
    # Whatever the file really is, it must not run as a page of the portal: anything but
    # a PDF is a download, and a PDF may load nothing from anywhere.
    response["Content-Security-Policy"] = (
        "default-src 'none'; object-src 'self'" if is_pdf else "sandbox; default-src 'none'"
    )
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response


def _act(
    request: HttpRequest,
    pk: int,
    form_class,
    action,
    form_name: str,
    *,
    done,
    form_kwargs=None,
    confirm=None,
):
    """Validate, ask first when `confirm` says the step is serious, act, and say what
    happens next (`done`)."""
    document = get_object_or_404(Document, pk=pk)
    form = form_class(request.POST, **(form_kwargs(document) if form_kwargs else {}))
    context_extra = {form_name: form}
    status = 400
    if form.is_valid():
        question = confirm(document, form.cleaned_data) if confirm else None
        if question and request.POST.get("confirmed") != "yes":
            # A server-rendered confirmation step: the same data, posted again on purpose.
            data = [(k, v) for k, v in request.POST.items() if k != "csrfmiddlewaretoken"]
            context_extra["confirm"] = {**question, "data": data, "action": request.path}
            status = 200
        else:
            try:
                result = action(document, form.cleaned_data)
            except services.ReviewError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, done(result, form.cleaned_data))
                return redirect("robot:document", pk=pk)
    document.refresh_from_db()
    services.log_document_access(
        user=request.user, document=document, action=AccessLog.Action.VIEW_DOCUMENT
    )
    return render(
        request, "robot/document.html", _document_context(document, **context_extra), status=status
    )


def _assessment_question(document: Document, data: dict) -> dict | None:
    if data["decision"] != Assessment.Decision.MAY_NOT_EMPLOY:
        return None
    return {
        "title": _("Decide that %(name)s cannot be hired?") % {"name": _person_name(document)},
        "consequence": _assessment_consequence(data["decision"]),
        "button": _("Yes, cannot be hired"),
    }


def _assessment_consequence(decision: str, *, approved: bool = False) -> str:
    if settings.REVIEW_FOUR_EYES and not approved and decision != Assessment.Decision.FURTHER:
        return _(
            "A colleague in payroll must approve the assessment; until then it waits under "
            '"Awaiting second approval" and the manager is told nothing.'
        )
    if decision == Assessment.Decision.MAY_NOT_EMPLOY:
        return _(
            'The certificate line is closed as "may not be employed", the manager is told '
            "only that decision, and the certificate is filed with your decision note."
        )
    if decision == Assessment.Decision.MAY_EMPLOY:
        return _(
            "The certificate line is cleared, the manager is told only that decision, and "
            "the certificate is filed with your decision note."
        )
    return _("The certificate stays in the queue for a further assessment.")


def _person_name(document: Document) -> str:
    return document.line.order.full_name if document.line_id else _("the person")


@payroll_required
@require_POST
def document_assess(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        AssessmentForm,
        lambda doc, data: services.assess_document(
            document=doc,
            by=request.user,
            relevance=data["relevance"],
            discussed=data["discussed"],
            decision=data["decision"],
            reason=data["reason"],
        ),
        "assessment_form",
        confirm=_assessment_question,
        done=lambda assessment, data: (
            _("Assessment saved: %(decision)s. %(next)s")
            % {
                "decision": assessment.get_decision_display().lower(),
                "next": _assessment_consequence(assessment.decision),
            }
        ),
    )


@payroll_required
@require_POST
def document_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        ResolveForm,
        lambda doc, data: services.resolve_document(
            document=doc,
            by=request.user,
            line=data["line"],
            outcome=data["outcome"],
            reason=data["reason"],
        ),
        "resolve_form",
        form_kwargs=_resolve_kwargs,
        done=lambda document, data: (
            _(
                "Attached to %(name)s's %(kind)s with the outcome %(outcome)s; the order's "
                "timeline shows it."
            )
            % {
                "name": data["line"].order.full_name,
                "kind": data["line"].kind.name.lower(),
                "outcome": Document.Outcome(data["outcome"]).label.lower(),
            }
        ),
    )


@payroll_required
@require_POST
def document_discard(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        DiscardForm,
        lambda doc, data: services.discard_document(
            document=doc, by=request.user, reason=data["reason"]
        ),
        "discard_form",
        confirm=lambda document, data: {
            "title": _("Discard %(name)s?") % {"name": document.original_name},
            "consequence": _(
                "It leaves the queue for good and is neither matched nor filed. "
                "No order line changes."
            ),
            "button": _("Yes, discard"),
        },
        done=lambda document, data: (
            _("%(name)s has been discarded: it has left the queue, and nothing was filed.")
            % {"name": document.original_name}
        ),
    )


@payroll_required
@require_POST
def document_not_ordered(request: HttpRequest, pk: int) -> HttpResponse:
    """A certificate nobody here ordered: discarded with that reason, after the same
    confirmation step as any discard (its only other way out was "not a certificate")."""
    return _act(
        request,
        pk,
        Form,
        lambda doc, data: services.discard_document(
            document=doc, by=request.user, reason=_("Not ordered by us")
        ),
        "not_ordered_form",
        confirm=lambda document, data: {
            "title": _("Discard %(name)s as not ordered by us?") % {"name": document.original_name},
            "consequence": _(
                "It leaves the queue for good and is neither matched nor filed; the file is "
                "deleted from the portal after %(days)d days. No order line changes."
            )
            % {"days": settings.RETENTION_FILE_DAYS},
            "button": _("Yes, not ordered by us"),
        },
        done=lambda document, data: (
            _("%(name)s has been discarded as not ordered by us; nothing was filed.")
            % {"name": document.original_name}
        ),
    )


@payroll_required
@require_POST
def document_approve(request: HttpRequest, pk: int) -> HttpResponse:
    document = get_object_or_404(Document, pk=pk)
    try:
        if request.POST.get("answer") == "reject":
            services.reject_assessment(document=document, by=request.user)
            done = _("Sent back: the certificate waits for a new assessment.")
        else:
            assessment = services.approve_assessment(document=document, by=request.user)
            done = _("Approved: %(next)s") % {
                "next": _assessment_consequence(assessment.decision, approved=True)
            }
    except services.ReviewError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return redirect("robot:document", pk=pk)


FILING_SORTS = [
    Sort("newest", _("Newest first"), ("-created_at", "-id")),
    Sort("oldest", _("Oldest first"), ("created_at", "id")),
]
FILINGS_PER_PAGE = 50


@payroll_required
@require_GET
def filing_queue(request: HttpRequest) -> HttpResponse:
    """What is being filed in the case system: waiting, failing with the reason, filed; or
    every job in one state, a page at a time."""
    jobs = FilingJob.objects.select_related("line__order__unit", "line__kind", "document__line")
    State = FilingJob.State
    counts = dict(
        jobs.filter(state__in=[s for s in State.values if s != State.FILED])
        .values_list("state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    # Filed jobs pile up for years: count them only as far as a page needs.
    counts[State.FILED] = jobs.filter(state=State.FILED).order_by()[: COUNT_LIMIT + 1].count()
    state = request.GET.get("state")
    context = {
        "counts": [(value, label, counts.get(value, 0)) for value, label in State.choices],
        "count_limit": COUNT_LIMIT,
        "state": state if state in State.values else None,
        "sort_choices": sort_choices(FILING_SORTS),
        "sort": request.GET.get("sort") or FILING_SORTS[0].value,
    }
    if context["state"]:
        ordering = ordering_for(FILING_SORTS, context["sort"])
        page = paginate(
            jobs.filter(state=state).order_by(*ordering), request, per_page=FILINGS_PER_PAGE
        )
        context.update(page=page, query=urlencode({"state": state, "sort": context["sort"]}))
        shown = list(page.object_list)
    else:
        context.update(
            attention=list(
                jobs.filter(state__in=[State.FAILED, State.MANUAL]).order_by("created_at")[:200]
            ),
            waiting=list(
                jobs.filter(state__in=[State.PENDING, State.IN_PROGRESS]).order_by(
                    "next_attempt_at"
                )[:100]
            ),
            filed=list(jobs.filter(state=State.FILED).order_by("-filed_at", "-id")[:50]),
        )
        shown = context["attention"] + context["waiting"] + context["filed"]
    services.log_documents_listed(user=request.user, documents=[job.document for job in shown])
    return render(request, "robot/filing.html", context)


@payroll_required
@require_POST
def filing_action(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(FilingJob, pk=pk)
    action = request.POST.get("action")
    try:
        if action == "retry":
            filing.retry_job(job=job, by=request.user)
        elif action == "manual":
            filing.send_to_manual(
                job=job, by=request.user, reason=request.POST.get("reason", "").strip() or "-"
            )
        elif action == "filed":
            reference = request.POST.get("esdh_reference", "").strip()
            if not reference:
                raise filing.FilingStateError(_("Enter the case system's reference."))
            filing.mark_filed_by_hand(job=job, by=request.user, esdh_reference=reference)
        else:
            raise filing.FilingStateError(_("Unknown action."))
    except filing.FilingStateError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Saved."))
    return redirect("robot:filing")


@payroll_required
@require_POST
def proposal_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """One action: the robot's proposal takes effect, and the next proposal opens."""
    proposal = get_object_or_404(Proposal, pk=pk)
    try:
        trial.confirm_proposal(
            proposal=proposal,
            by=request.user,
            channel_checked=request.POST.get("channel_checked") == "yes",
        )
    except trial.TrialError as error:
        messages.error(request, str(error))
        return redirect("robot:document", pk=proposal.document_id)
    messages.success(
        request, _("Confirmed: %(outcome)s.") % {"outcome": proposal.get_proposed_display().lower()}
    )
    return _next_proposal(proposal)


@payroll_required
@require_POST
def document_second_answer(request: HttpRequest, pk: int) -> HttpResponse:
    """Payroll settles two answers to one order line: which one stands."""
    document = get_object_or_404(Document, pk=pk)
    form = SecondAnswerForm(request.POST)
    if form.is_valid():
        try:
            services.settle_second_answer(document=document, by=request.user, **form.cleaned_data)
        except services.ReviewError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Saved: the order line has its answer again."))
            return redirect("robot:document", pk=document.pk)
    services.log_document_access(
        user=request.user, document=document, action=AccessLog.Action.VIEW_DOCUMENT
    )
    context = _document_context(document, second_answer_form=form)
    return render(request, "robot/document.html", context, status=400)


@payroll_required
@require_POST
def proposal_overrule(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = get_object_or_404(Proposal.objects.select_related("document"), pk=pk)
    form = OverruleForm(request.POST)
    if form.is_valid():
        try:
            trial.overrule_proposal(
                proposal=proposal,
                by=request.user,
                outcome=form.cleaned_data["outcome"],
                reason=form.cleaned_data["reason"],
            )
        except trial.TrialError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("Overruled: the outcome is now %(outcome)s.")
                % {"outcome": Document.Outcome(form.cleaned_data["outcome"]).label.lower()},
            )
            if form.cleaned_data["outcome"] != Document.Outcome.NOT_CLEAN:
                return _next_proposal(proposal)
            # As after confirming, the next proposal opens and this certificate waits for
            # its assessment; only when no proposal is left does the assessment come next.
            following = trial.next_open_proposal(after=proposal)
            if following is None:
                return redirect("robot:document", pk=proposal.document_id)
            messages.info(
                request,
                format_html(
                    '{} <a href="{}">{}</a>',
                    _("%(name)s waits for your assessment in the queue.")
                    % {"name": proposal.document.original_name},
                    reverse("robot:document", args=[proposal.document_id]),
                    _("Assess it now"),
                ),
            )
            return redirect("robot:document", pk=following.document_id)
    document = proposal.document
    services.log_document_access(
        user=request.user, document=document, action=AccessLog.Action.VIEW_DOCUMENT
    )
    return render(
        request, "robot/document.html", _document_context(document, overrule_form=form), status=400
    )


def _next_proposal(decided: Proposal) -> HttpResponse:
    following = trial.next_open_proposal(after=decided)
    if following is None:
        return redirect(f"{reverse('robot:queue')}?state={Document.State.PROPOSED}")
    return redirect("robot:document", pk=following.document_id)


@payroll_or_staff_required
@require_GET
def agreement(request: HttpRequest) -> HttpResponse:
    """How often people agreed with the robot, per kind, under the active rules."""
    return render(
        request,
        "robot/agreement.html",
        {
            "rows": trial.agreement(),
            "minimum": settings.TRIAL_MIN_CONFIRMED,
            "sample_percent": settings.AUTOMATIC_SAMPLE_PERCENT,
        },
    )


@staff_required
@require_POST
def agreement_switch(request: HttpRequest, kind_id: int) -> HttpResponse:
    kind = get_object_or_404(CertificateKind, pk=kind_id)
    mode = request.POST.get("mode", "")
    try:
        trial.switch_mode(kind=kind, mode=mode, by=request.user)
    except trial.TrialError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(kind)s: %(mode)s.") % {"kind": kind.name, "mode": ModeSwitch.Mode(mode).label},
        )
    return redirect("robot:agreement")
