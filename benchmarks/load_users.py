"""The simulated people of a QA team's working day, for Locust (benchmarks/load.py starts it).

Reviewers work the pending queue in the admin: open it, start a review of one of the most urgent
calls, record verdicts on up to three criteria, write a note, archive agreeing with the AI on the rest (a few
release instead). QA managers read the team
overview and participants' dashboards, edit a participant's metadata and reassign calls under review.
Internal tools use the REST API: filtered lists, cursors through pages, participant analytics.

Everything comes from the environment the driver sets: LOAD_REVIEWERS, LOAD_MANAGERS, LOAD_TOOLS (how
many of each), LOAD_PASSWORD, LOAD_TOOL_TOKENS (comma-separated), LOAD_MAX_ITERATIONS (per user), and for a
step load LOAD_STEP ("start,increment,seconds") and LOAD_REQUESTS_FILE (see StepPlan). The
server sits where a TLS proxy would send it traffic: requests carry X-Forwarded-Proto: https, and the
client sends the secure cookies over the loopback hop as the proxy would. A request is a failure when
it answers anything but what a person expects (a 4xx or 5xx, or a page without its landmark); a claim
lost to another reviewer is not a failure but an outcome, counted apart.
"""

from __future__ import annotations

import html
import itertools
import json
import math
import os
import random
import re
import time
from http.cookiejar import DefaultCookiePolicy

import gevent
from locust import HttpUser, between, events, task
from locust.exception import RescheduleTask, StopUser

REVIEWERS = int(os.environ.get("LOAD_REVIEWERS", "40"))
MANAGERS = int(os.environ.get("LOAD_MANAGERS", "8"))
TOOLS = int(os.environ.get("LOAD_TOOLS", "2"))
PASSWORD = os.environ.get("LOAD_PASSWORD", "")
TOOL_TOKENS = [t for t in os.environ.get("LOAD_TOOL_TOKENS", "").split(",") if t]
MAX_ITERATIONS = int(os.environ.get("LOAD_MAX_ITERATIONS", "200"))

CALL_LINK = re.compile(r'href="/admin/qa/reviewitem/(\d+)/change/')
PARTICIPANT_LINK = re.compile(r'href="/admin/qa/participant/(\d+)/change/')
CRITERION = re.compile(r'name="criterion" value="([^"]*)"')
REVIEWER_OPTION = re.compile(r'<option value="(\d+)">')
outcomes: dict[str, int] = {}


def count(outcome: str) -> None:
    outcomes[outcome] = outcomes.get(outcome, 0) + 1


class StepPlan:
    """A step load: every person signs in first (not measured: a working day's logins are its first minutes,
    and each costs a second of the hasher's CPU), then `start` people work, `increment` more every `seconds`,
    until all of them do. At every step the people at work keep the mix of the whole (reviewers, QA managers,
    tools: the first ceil(share x count) of each kind). The others wait, asking nothing. Each request finished
    during the steps is recorded (when it ended, its name, its ms, whether it failed) for benchmarks/load.py,
    which reads each step's rate and p95 from them; the run ends after the last step."""

    def __init__(self, spec: str, counts: dict[str, int]):
        self.start, self.increment, self.seconds = (int(part) for part in spec.split(","))
        self.counts = counts
        self.total = sum(counts.values())
        self.steps = 1 + max(0, math.ceil((self.total - self.start) / max(1, self.increment)))
        self.signed_in = 0
        self.started_at: float | None = None  # set once everybody has signed in
        self.requests: list[tuple[float, str, float, bool]] = []

    def people(self, step: int) -> int:
        return min(self.total, self.start + step * self.increment)

    def step_now(self) -> int | None:
        if self.started_at is None or time.time() < self.started_at:
            return None
        return int((time.time() - self.started_at) // self.seconds)

    def works(self, kind: str, number: int) -> bool:
        """Whether person `number` (from 1) of `kind` works at the current step."""
        step = self.step_now()
        if step is None:
            return False
        return number <= math.ceil(self.people(step) * self.counts[kind] / self.total)

    def signed(self) -> None:
        self.signed_in += 1
        if self.signed_in == self.total:
            self.started_at = time.time() + 2  # the last sign-in's answer settles

    def summary(self) -> dict:
        return {"started_at": self.started_at, "seconds": self.seconds,
                "people": [self.people(step) for step in range(self.steps)], "requests": self.requests}


STEP = StepPlan(os.environ["LOAD_STEP"], {"reviewer": REVIEWERS, "manager": MANAGERS, "tool": TOOLS}) \
    if os.environ.get("LOAD_STEP") else None


@events.request.add_listener
def record_request(request_type, name, response_time, response_length, exception=None, **kwargs):
    if STEP is not None and STEP.step_now() is not None:
        STEP.requests.append((time.time(), name, response_time, exception is not None))


@events.init.add_listener
def end_after_last_step(environment, **kwargs):
    if STEP is None:
        return

    def watch():
        while STEP.step_now() is None or STEP.step_now() < STEP.steps:
            gevent.sleep(1)
        environment.runner.quit()

    gevent.spawn(watch)


@events.quitting.add_listener
def write_outcomes(environment, **kwargs):
    path = os.environ.get("LOAD_OUTCOMES_FILE")
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(outcomes, handle)
    path = os.environ.get("LOAD_REQUESTS_FILE")
    if path and STEP is not None:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(STEP.summary(), handle)


# The client-to-proxy hop is HTTPS, so the secure session and CSRF cookies do travel to the server on
# the loopback hop. On the class: requests copies cookies into a fresh jar (default policy) per request.
DefaultCookiePolicy.return_ok_secure = lambda self, cookie, request: True


class AdminUser(HttpUser):
    abstract = True
    wait_time = between(1, 3)
    numbers = None  # itertools.count per class: each simulated person logs in as a different account
    prefix = ""

    def on_start(self):
        self.client.headers.update({"X-Forwarded-Proto": "https"})
        self.iterations = 0
        self.number = next(self.numbers)
        self.username = f"{self.prefix}{self.number:02d}"
        self.get("/admin/login/", name="login page", landmark='name="username"')
        self.post("/admin/login/?next=/admin/", {"username": self.username, "password": PASSWORD, "next": "/admin/"},
                  name="log in", landmark="Quality assurance")
        if STEP is not None:
            STEP.signed()

    def tick(self):
        if STEP is not None and not STEP.works(self.prefix, self.number):
            raise RescheduleTask()  # not at work yet in a step load
        self.iterations += 1
        if self.iterations > MAX_ITERATIONS:
            raise StopUser()

    def get(self, path, *, name, landmark=None):
        with self.client.get(path, name=name, catch_response=True, allow_redirects=True) as response:
            return self.check(response, landmark)

    def post(self, path, data, *, name, landmark=None):
        data = {**data, "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", "")}
        referer = f"https://{self.host.split('://', 1)[1]}{path}"
        with self.client.post(path, data, name=name, catch_response=True, headers={"Referer": referer}) as response:
            return self.check(response, landmark)

    @staticmethod
    def check(response, landmark):
        if response.status_code >= 400:
            response.failure(f"HTTP {response.status_code}")
            return None
        if landmark and landmark not in response.text:
            response.failure(f"no {landmark!r} in the page")
            return None
        response.success()
        return response.text


class Reviewer(AdminUser):
    fixed_count = REVIEWERS
    numbers = itertools.count(1)
    prefix = "reviewer"

    @task
    def review_one_call(self):
        self.tick()
        queue = self.get("/admin/qa/reviewitem/?queue=PENDING_REVIEW", name="queue", landmark="Review queues")
        if not queue:
            return
        calls = list(dict.fromkeys(CALL_LINK.findall(queue)))[:10]  # the most urgent first
        if not calls:
            count("queue empty")
            return
        pk = random.choice(calls)
        page = self.post(f"/admin/qa/reviewitem/{pk}/review/claim/", {}, name="claim", landmark="Review")
        if page is None:
            return
        if "is already reviewing this call" in page:
            count("claim lost to another reviewer")
            return
        if "You are reviewing this call." not in page:
            count("claim refused")
            return
        count("claimed")
        for criterion in list(dict.fromkeys(CRITERION.findall(page)))[:3]:
            agrees = random.random() < 0.8
            done = self.post(f"/admin/qa/reviewitem/{pk}/review/verdict/",
                             {"criterion": html.unescape(criterion), "agrees": "yes" if agrees else "no",
                              "reason": "" if agrees else "The agent did greet the customer."},
                             name="verdict", landmark="Review")
            if done is not None and ": saved — " not in done:  # the page says "<criterion>: saved — <verdict>."
                count("verdict refused (the call was reassigned meanwhile)")
                return
        self.post(f"/admin/qa/reviewitem/{pk}/review/note/", {"note": "Checked the opening and the close."},
                  name="note", landmark="Note saved.")
        if random.random() < 0.1:
            done = self.post(f"/admin/qa/reviewitem/{pk}/review/release/", {"note": "Not mine after all."},
                             name="release", landmark="Review queues")
            count("released" if done and "Released back to the queue." in done else "release refused")
        else:
            # The calls have more criteria than the three decided: the rest agree with the AI (the page's "Agree
            # with the AI on the rest and archive"); without it every archive was refused as undecided.
            done = self.post(f"/admin/qa/reviewitem/{pk}/review/archive/", {"note": "Reviewed.", "agree_rest": "1"},
                             name="archive", landmark="Review queues")
            count("archived" if done and "Archived." in done else "archive refused (reassigned meanwhile)")


class QaManager(AdminUser):
    fixed_count = MANAGERS
    numbers = itertools.count(1)
    prefix = "manager"
    wait_time = between(2, 5)

    def on_start(self):
        super().on_start()
        listing = self.get("/admin/qa/participant/", name="participant list", landmark="participant")
        self.participants = list(dict.fromkeys(PARTICIPANT_LINK.findall(listing or "")))

    @task(3)
    def team_overview(self):
        self.tick()
        self.get("/admin/qa/participant/team/?o=-avg_score", name="team overview", landmark="Team overview")

    @task(3)
    def participant_dashboard(self):
        self.tick()
        if self.participants:
            self.get(f"/admin/qa/participant/{random.choice(self.participants)}/change/",
                     name="participant dashboard", landmark="qa-timeline")

    @task(1)
    def edit_metadata(self):
        self.tick()
        if not self.participants:
            return
        url = f"/admin/qa/participant/{random.choice(self.participants)}/change/"
        page = self.get(url, name="participant dashboard", landmark="qa-timeline")
        version = re.search(r'name="based_on_version" value="(\d+)"', page or "")
        tag = re.search(r'name="tag" value="([^"]*)"', page or "")
        metadata = re.search(r'<textarea name="metadata"[^>]*>(.*?)</textarea>', page or "", re.S)
        if not (version and tag and metadata):
            count("participant form not understood")
            return
        values = json.loads(html.unescape(metadata.group(1)).strip() or "{}")
        values["last_coaching"] = f"session {random.randint(1, 10_000)}"
        done = self.post(url, {"tag": html.unescape(tag.group(1)), "metadata": json.dumps(values),
                               "based_on_version": version.group(1), "_save": "Save"},
                         name="edit participant metadata")
        if done is None:
            return
        count("metadata saved" if "was changed successfully" in done else "metadata edit refused (stale)")

    @task(1)
    def reassign(self):
        self.tick()
        queue = self.get("/admin/qa/reviewitem/?queue=UNDER_REVIEW", name="queue", landmark="Review queues")
        calls = CALL_LINK.findall(queue or "")
        if not calls:
            return
        pk = random.choice(calls)
        page = self.get(f"/admin/qa/reviewitem/{pk}/change/", name="review page", landmark="Review")
        reviewers = REVIEWER_OPTION.findall(page or "")
        if not reviewers:
            return  # archived or released meanwhile
        done = self.post(f"/admin/qa/reviewitem/{pk}/review/reassign/",
                         {"to_user": random.choice(reviewers), "reason": "Balancing the load."},
                         name="reassign", landmark="Review")
        count("reassigned" if done and "Reassigned." in done else "reassign refused (moved meanwhile)")


class InternalTool(HttpUser):
    fixed_count = TOOLS
    wait_time = between(1, 2)
    numbers = itertools.count(0)

    def on_start(self):
        self.number = next(self.numbers) + 1
        token = TOOL_TOKENS[(self.number - 1) % len(TOOL_TOKENS)]
        self.client.headers.update({"Authorization": f"Token {token}", "X-Forwarded-Proto": "https"})
        self.iterations = 0
        body = self.api("/api/v1/participants/?limit=50", name="api participants")
        self.participants = [p["participant_id"] for p in (body or {}).get("data", [])]
        if STEP is not None:
            STEP.signed()

    def tick(self):
        if STEP is not None and not STEP.works("tool", self.number):
            raise RescheduleTask()
        self.iterations += 1
        if self.iterations > MAX_ITERATIONS:
            raise StopUser()

    def api(self, path, *, name):
        with self.client.get(path, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                return None
            response.success()
            return response.json()

    @task(3)
    def list_with_filters_and_cursor(self):
        self.tick()
        query = random.choice([
            "status=COMPLETED&critical_fail=true", "group=PENDING_REVIEW", "score_min=20&score_max=60",
            "status=COMPLETED&ordering=occurred_at",
        ])
        body = self.api(f"/api/v1/transcriptions/?limit=100&{query}", name="api transcriptions page 1")
        for _ in range(4):
            cursor = (body or {}).get("next_cursor")
            if not cursor:
                break
            body = self.api(f"/api/v1/transcriptions/?limit=100&{query}&cursor={cursor}",
                            name="api transcriptions next page")

    @task(1)
    def analytics(self):
        self.tick()
        if self.participants:
            self.api(f"/api/v1/participants/{random.choice(self.participants)}/analytics/", name="api analytics")
