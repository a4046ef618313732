"""The admin site's pages of the agents' domain: the agent's own page (/admin/me/), its acknowledge buttons (a
reviewed call's, a coaching session's), and the link form of a participant's page
(/admin/qa/participant/<pk>/agent/). Thin: rules are qa.agents.services' and
qa.policy's, reads qa.agents.selectors' and qa.insights'.

The site (heifyadmin.admin_site) wires them under its admin_view and lets an agent reach only the views marked
`agent_view` here: an agent is refused every other page of the admin.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qa import policy
from qa.agents import selectors, services
from qa.insights import analytics, coaching_effect
from qa.mirror.models import Participant, Transcription
from qa.mirror.report_rules import ScoreSource
from qa.reviews import coaching, disputes

CALLS_PER_PAGE = 20


def agent_view(view):
    """Marks a view an agent (policy.sees_own_only) may reach; the site refuses them every unmarked one."""
    view.for_agents = True
    return view


@agent_view
def agent_page(request):
    """The agent's own page: their calls (newest first, paged) with each criterion's AI and reviewer results, and
    their dashboard on the score of record. Sections are template blocks, for disputes and coaching to extend."""
    if not policy.is_agent(request.user):
        raise PermissionDenied(_("This page shows an agent their own evaluations: agents only."))
    participant = policy.agent_participant(request.user)
    context = {**admin.site.each_context(request), "title": _("My evaluations"), "participant": participant}
    if participant is not None and participant.heify_id is not None:
        page = Paginator(selectors.agent_calls(participant), CALLS_PER_PAGE).get_page(request.GET.get("page"))
        report, criteria, review = analytics.participant_dashboard(participant, calls_shown=1,
                                                                   score=ScoreSource.REVIEWED)
        # Coaching: their sessions, newest first, each with its focus criteria before and after (two queries).
        effect = coaching_effect.coaching_effect(participant)
        focus = {session["id"]: session["focus"] for session in effect}
        context.update({
            "calls_page": page, "calls": selectors.call_rows(page.object_list), "report": report,
            "criteria_rows": criteria[:10], "review": review,
            "coaching": [(session, focus.get(session.pk, []))
                         for session in coaching.coaching_for(participant).prefetch_related(None)],
            "chart_data": {"timeline": report["charts"]["timeline"], "distribution": report["score_distribution"],
                           "coaching": coaching_effect.timeline_marks(effect)},
        })
    return TemplateResponse(request, "admin/qa/agents/me.html", context)


@agent_view
@require_POST
def acknowledge(request, pk: int):
    """The button of a reviewed call on the agent's page."""
    if not policy.is_agent(request.user):
        raise PermissionDenied(_("Only the call's own agent acknowledges its review."))
    try:
        services.transcription_acknowledge(transcription_id=pk, acting_user=request.user)
    except (services.NotYours, Transcription.DoesNotExist):
        if not policy.sees_own_only(request.user):
            raise PermissionDenied(_("Only the call's own agent acknowledges its review.")) from None
        raise Http404(_("No call of yours has this id.")) from None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Acknowledged: your QA team sees that you have read this review."))
    page = request.POST.get("page", "")
    query = f"?page={page}" if page.isdigit() else ""
    return HttpResponseRedirect(f"{reverse('admin:agent_page')}{query}#call-{pk}")


@agent_view
@require_POST
def coaching_acknowledge(request, pk: int):
    """The acknowledge button of a coaching session on the agent's page (qa.reviews.coaching)."""
    if not policy.is_agent(request.user):  # before the lookup: a refusal says nothing of the session
        raise PermissionDenied(_("Only the agent coached acknowledges a coaching session."))
    session = coaching.sessions_visible_to(request.user).filter(pk=pk).first()
    if session is None or not coaching.is_agent_of(request.user, session):
        if not policy.sees_own_only(request.user):
            raise PermissionDenied(_("Only the agent coached acknowledges a coaching session."))
        raise Http404(_("No coaching session of yours has this id."))
    coaching.coaching_acknowledge(session_id=session.pk, acting_user=request.user)
    messages.success(request, _("Acknowledged: your QA team sees that you have read the coaching of %(date)s.") % {
        "date": formats.date_format(timezone.localtime(session.held_at), "DATE_FORMAT")})
    return HttpResponseRedirect(f"{reverse('admin:agent_page')}#coaching-{pk}")


@agent_view
@require_POST
def dispute(request, pk: int):
    """A call card's dispute form: one criterion's result of record, with the agent's reason (qa.reviews.disputes)."""
    if not policy.is_agent(request.user):
        raise PermissionDenied(_("Only the call's own agent disputes its results."))
    criterion = request.POST.get("criterion", "")
    try:
        disputes.dispute_raise(transcription_id=pk, criterion=criterion, reason=request.POST.get("reason", ""),
                               acting_user=request.user)
    except Transcription.DoesNotExist:
        raise Http404(_("No call of yours has this id.")) from None
    except ValidationError as exc:
        messages.error(request, _("%(criterion)s: not disputed — %(why)s") % {
            "criterion": criterion, "why": " ".join(exc.messages)})
    else:
        messages.success(request, _("%(criterion)s: disputed. A QA manager who did not review the call will "
                                    "answer; you will be told by e-mail.") % {"criterion": criterion})
    page = request.POST.get("page", "")
    query = f"?page={page}" if page.isdigit() else ""
    return HttpResponseRedirect(f"{reverse('admin:agent_page')}{query}#call-{pk}")


@require_POST
def participant_agent(request, pk: int):
    """The link form of a participant's page (QA managers): `username` links that account, `unlink` unlinks."""
    try:
        if request.POST.get("unlink"):
            participant = services.agent_unlink(participant_id=pk, acting_user=request.user)
            messages.success(request, _("%(participant)s has no agent's account linked now.") % {
                "participant": participant.tag})
        else:
            participant = services.agent_link(participant_id=pk, username=request.POST.get("username", ""),
                                              acting_user=request.user)
            messages.success(request, _("%(user)s is now %(participant)s's agent account: they see this "
                                        "participant's calls and nothing else.") % {
                "user": participant.agent_user.get_username(), "participant": participant.tag})
    except Participant.DoesNotExist:
        raise Http404(_("No participant has this id.")) from None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return HttpResponseRedirect(reverse("admin:qa_participant_change", args=[pk]) + "#qa-agent-link")
