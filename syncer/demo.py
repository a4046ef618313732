"""Deterministic demo data: a whole Heify account, exactly as Heify's API sends it.

`generate()` builds configurations, evaluators, participants and transcriptions
in the `heify_load` format (`{"configurations": [...], "evaluators": [...],
"participants": [...], "transcriptions": [...]}`), every item in Heify's own
JSON shape (shared/seeds/core-objects.txt), ready for `mirror.load_snapshot`
or the emulator. The `heify_demo` management command writes it to a file.

Everything is drawn from one `random.Random(seed)` and dated relative to
`now`, so the same seed and the same `now` give byte-identical output. Calls
span the ~4 months before `now` (always including the current and the previous
calendar month). Agents have different quality levels (one degrades over the
last weeks), so the analytics have something to show. Scores come only from
`qa.mirror.rules.evaluation_score`: the formula lives there, never here.
"""

from __future__ import annotations

import copy
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from qa.mirror import rules

SPAN_DAYS = 120  # how far back the calls go
OPEN_WINDOW = timedelta(hours=48)  # PENDING / IN_PROGRESS calls are this recent
SETTLED = timedelta(hours=1)  # finished calls are at least this old (so completed_at <= now)
OPEN_SHARE = 0.03  # PENDING + IN_PROGRESS
FAILED_SHARE = 0.10
NO_PARTICIPANT_SHARE = 0.03
# The degrading agent: her newest DEGRADED_CALLS calls are at her low; over the
# DEGRADING_CALLS before them she slides down from her usual level. At the
# default volume that is the last two to three weeks.
DEGRADED_CALLS = 12
DEGRADING_CALLS = 20

Rng = random.Random


# --- static catalogue: configurations ----------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    description: str


@dataclass(frozen=True)
class ConfigSpec:
    key: str  # the domain: support, sales, collections
    tag: str
    vocabulary: tuple[str, ...]
    fields: tuple[FieldSpec, ...]
    summary: bool
    summary_language: str
    analytics_language: str
    webhooks: dict
    language: str  # the language its calls are spoken in
    duration_median: float
    days_before_start: int


CONFIGURATIONS = (
    ConfigSpec(
        key="support",
        tag="Customer Support - Inbound",
        vocabulary=("Nimbus", "Nimbus Drive", "Nimbus Mail", "two-factor", "SSO", "invoice", "refund"),
        fields=(
            FieldSpec("sentiment", "string",
                      "Overall sentiment of the customer at the end of the call. "
                      "Must be one of: POSITIVE, NEGATIVE, NEUTRAL."),
            FieldSpec("issue_category", "string",
                      "Main reason for the call. Must be one of: BILLING, TECHNICAL, ACCOUNT_ACCESS, "
                      "CANCELLATION, OTHER."),
            FieldSpec("ticket_id", "string",
                      "The support ticket reference given to the customer (format TCK-123456), "
                      "or null if none was given."),
            FieldSpec("issue_resolved", "boolean",
                      "true if the customer's issue was fully resolved during the call, else false."),
            FieldSpec("products_mentioned", "array",
                      "Every Nimbus product named in the call, e.g. Nimbus Drive, Nimbus Mail, "
                      "Nimbus Backup, Admin Console, Mobile app."),
        ),
        summary=True,
        summary_language="en",
        analytics_language="en",
        webhooks={
            "success_url": "https://backoffice.example.com/hooks/heify/success",
            "error_url": "https://backoffice.example.com/hooks/heify/error",
        },
        language="en",
        duration_median=300.0,
        days_before_start=9,
    ),
    ConfigSpec(
        key="sales",
        tag="Sales Discovery Calls",
        vocabulary=("Nimbus", "SSO", "SOC 2", "pilot", "onboarding", "per seat", "annual plan"),
        fields=(
            FieldSpec("sentiment", "string",
                      "Prospect's overall interest. Must be one of: POSITIVE, NEGATIVE, NEUTRAL."),
            FieldSpec("deal_value", "number",
                      "Estimated yearly contract value in EUR discussed in the call, or null."),
            FieldSpec("next_action", "string", "The agreed next action with the prospect, if any."),
            FieldSpec("competitor_mentioned", "boolean", "true if the prospect named a competitor."),
        ),
        summary=True,
        summary_language="df",
        analytics_language="en",
        webhooks={"success_url": "https://crm.example.com/integrations/heify", "error_url": None},
        language="en",
        duration_median=480.0,
        days_before_start=7,
    ),
    ConfigSpec(
        key="collections",
        tag="Cobros - Recobro amistoso",
        vocabulary=("Financiera Aurora", "plan de pagos", "cuota", "recargo", "DNI", "quita"),
        fields=(
            FieldSpec("payment_plan", "boolean", "true if the debtor accepted a payment plan."),
            FieldSpec("agreed_amount", "number",
                      "Total amount in EUR the debtor agreed to pay, or null if nothing was agreed."),
            FieldSpec("promise_date", "string",
                      "Date of the first promised payment as YYYY-MM-DD, or null."),
        ),
        summary=False,
        summary_language="es",
        analytics_language="es",
        webhooks={
            "success_url": "https://backoffice.example.com/hooks/heify/success",
            "error_url": "https://backoffice.example.com/hooks/heify/error",
        },
        language="es",
        duration_median=240.0,
        days_before_start=5,
    ),
)


# --- static catalogue: evaluators ---------------------------------------------------
# A criterion: (name, type, weight, description, ease, role). `ease` shifts how
# often it passes; `role` ties a verdict to what the conversation says.


@dataclass(frozen=True)
class EvaluatorSpec:
    domain: str
    share: float  # of the domain's calls that carry an evaluator
    tag: str
    description: str
    language: str
    context: Any
    criteria: tuple[tuple[str, str, float, str, float, str], ...]
    created_days_ago: int  # days before `now`
    updated_days_ago: int


EVALUATORS = (
    EvaluatorSpec(
        domain="support", share=0.72,
        tag="Customer Service Standard",
        description="Evaluates call quality for the inbound support team.",
        language="en",
        context="Inbound customer support calls for Nimbus, a SaaS file-sharing and e-mail product.",
        criteria=(
            ("Greeting", "BOOLEAN", 10,
             "Did the agent greet the customer with the standard opening phrase and give their name?",
             0.15, "greeting"),
            ("Identity verification", "STRICT", 0,
             "Did the agent verify the caller's identity before discussing account details?", 0.0, ""),
            ("Active listening", "SCALE", 20,
             "Rate 1-5 how well the agent listened, paraphrased the problem and avoided interrupting.",
             0.05, ""),
            ("Empathy", "SCALE", 15,
             "Rate 1-5 how well the agent acknowledged the customer's frustration.", 0.0, ""),
            ("Issue resolved", "BOOLEAN", 35,
             "Was the customer's issue fully resolved by the end of the call?", -0.1, "resolution"),
            ("Clear next steps", "SCALE", 10,
             "Rate 1-5 how clearly the agent explained what happens next.", 0.0, ""),
            ("Proper closing", "BOOLEAN", 10,
             "Did the agent offer further help and close the call politely?", 0.1, ""),
            ("No offensive language", "STRICT", 0,
             "Did the agent avoid rude, sarcastic or inappropriate language?", 0.01, "conduct"),
        ),
        created_days_ago=SPAN_DAYS + 4, updated_days_ago=37,
    ),
    EvaluatorSpec(
        domain="support", share=0.24,
        tag="Technical Support Escalation",
        description="Second-level troubleshooting calls.",
        language="en",
        context={"tier": 2, "product": "Nimbus", "focus": ["diagnosis", "ticket hygiene"]},
        criteria=(
            ("Troubleshooting method", "SCALE", 30,
             "Rate 1-5 how systematically the agent narrowed the problem down.", -0.05, ""),
            ("Accurate diagnosis", "BOOLEAN", 30,
             "Did the agent identify the real cause of the problem?", -0.05, "resolution"),
            ("Ticket reference given", "BOOLEAN", 15,
             "Did the agent give the customer a ticket reference?", 0.1, ""),
            ("Expectation setting", "SCALE", 25,
             "Rate 1-5 how clearly the agent set expectations on timing.", 0.0, ""),
            ("Data protection", "STRICT", 0,
             "Did the agent avoid asking for full passwords or full card numbers?", 0.0, ""),
        ),
        created_days_ago=62, updated_days_ago=62,
    ),
    EvaluatorSpec(
        domain="sales", share=0.95,
        tag="Sales Discovery",
        description="Outbound discovery calls with new prospects.",
        language="df",
        context=None,
        criteria=(
            ("Needs discovery", "SCALE", 30,
             "Rate 1-5 how well the rep uncovered the prospect's needs, team size and timeline.", 0.0, ""),
            ("Value proposition", "SCALE", 25,
             "Rate 1-5 how clearly the rep tied Nimbus' value to the prospect's needs.", 0.0, ""),
            ("Objection handling", "SCALE", 20,
             "Rate 1-5 how well the rep handled price or competitor objections.", -0.1, ""),
            ("Next step booked", "BOOLEAN", 25,
             "Did the call end with a concrete, dated next step?", -0.05, "resolution"),
            ("No misleading claims", "STRICT", 0,
             "Did the rep avoid false promises about features, prices or discounts?", 0.0, "conduct"),
        ),
        created_days_ago=SPAN_DAYS + 3, updated_days_ago=SPAN_DAYS + 3,
    ),
    EvaluatorSpec(
        domain="collections", share=0.96,
        tag="Cumplimiento de cobranza",
        description="Cumplimiento normativo y calidad en llamadas de recobro amistoso.",
        language="es",
        context={"regulación": "Ley de crédito al consumo", "tono": "respetuoso y firme"},
        criteria=(
            ("Identificación del deudor", "STRICT", 0,
             "¿Verificó el agente la identidad del deudor antes de hablar de la deuda?", 0.0, ""),
            ("Aviso legal", "STRICT", 0,
             "¿Informó el agente de que la llamada se graba y de que su fin es el cobro de una deuda?",
             0.0, ""),
            ("Saludo y presentación", "BOOLEAN", 16.67,
             "¿Saludó el agente y se presentó con su nombre y el de la empresa?", 0.15, "greeting"),
            ("Trato respetuoso", "SCALE", 33.33,
             "Valora de 1 a 5 el respeto y la empatía del agente con el deudor.", 0.05, ""),
            ("Propuesta de plan de pagos", "BOOLEAN", 50,
             "¿Consiguió el agente un plan de pagos aceptado por el deudor?", -0.15, "resolution"),
            ("Sin amenazas ni coacción", "STRICT", 0,
             "¿Evitó el agente amenazas, presiones indebidas o revelar la deuda a terceros?", 0.01,
             "conduct"),
        ),
        created_days_ago=SPAN_DAYS + 2, updated_days_ago=12,
    ),
)


# --- static catalogue: participants ----------------------------------------------------


@dataclass(frozen=True)
class ParticipantSpec:
    tag: str
    domain: str
    quality: float  # 0-1, how well this agent does
    volume: float  # relative number of calls
    metadata: dict
    hired_days_ago: int | None = None  # a new hire (hire_date set then): no calls before
    degrading_to: float | None = None  # quality falls to this over her newest calls
    updated_days_ago: int | None = None


def _person(name, role, department, number, hire_date, shift, location, **extra) -> dict:
    first, last = name.lower().replace("í", "i").replace("á", "a").replace("'", "").split(" ", 1)
    return {
        "email": f"{first}.{last.replace(' ', '')}@example.com",
        "role": role,
        "department": department,
        "employee_id": f"EMP-{number:04d}",
        "hire_date": hire_date,
        "shift": shift,
        "location": location,
        **extra,
    }


PARTICIPANTS = (
    ParticipantSpec("Sarah Johnson", "support", 0.92, 1.3, _person(
        "Sarah Johnson", "Senior Support Agent", "Customer Success", 42, "2019-04-01", "morning", "Dublin",
        languages=["en", "fr"], team_lead="Rachel Adams", certifications=["ITIL Foundation"])),
    ParticipantSpec("Miguel Torres", "support", 0.76, 1.1, _person(
        "Miguel Torres", "Support Agent", "Customer Success", 57, "2021-09-13", "morning", "Dublin",
        languages=["en", "es"], team_lead="Rachel Adams")),
    ParticipantSpec("Priya Patel", "support", 0.6, 1.0, _person(
        "Priya Patel", "Support Agent", "Customer Success", 63, "2022-02-07", "afternoon", "Remote",
        languages=["en", "hi"], team_lead="Rachel Adams", remote=True), updated_days_ago=20),
    ParticipantSpec("Daniel Kim", "support", 0.32, 0.9, _person(
        "Daniel Kim", "Support Agent", "Customer Success", 71, "2023-06-19", "afternoon", "Dublin",
        languages=["en", "ko"], team_lead="Rachel Adams",
        notes="On a coaching plan since last quarter.")),
    ParticipantSpec("Emma Wilson", "support", 0.86, 1.3, _person(
        "Emma Wilson", "Support Agent II", "Customer Success", 48, "2020-11-02", "evening", "Dublin",
        languages=["en"], team_lead="Rachel Adams"), degrading_to=0.2),
    ParticipantSpec("Liam O'Connor", "support", 0.62, 1.0, _person(
        "Liam O'Connor", "Junior Support Agent", "Customer Success", 88, None, "evening", "Dublin",
        languages=["en", "ga"], team_lead="Rachel Adams",
        onboarding={"buddy": "Sarah Johnson", "completed": False}), hired_days_ago=49),
    ParticipantSpec("Olivia Brown", "sales", 0.86, 1.2, _person(
        "Olivia Brown", "Senior Account Executive", "Sales", 33, "2018-05-21", "morning", "London",
        territory="UK & Ireland", monthly_quota_eur=60000)),
    ParticipantSpec("Noah García", "sales", 0.52, 1.0, _person(
        "Noah García", "Account Executive", "Sales", 66, "2022-10-03", "afternoon", "Madrid",
        territory="Iberia", monthly_quota_eur=40000, languages=["es", "en"])),
    ParticipantSpec("Ava Martin", "sales", 0.7, 1.0, _person(
        "Ava Martin", "Account Executive", "Sales", 59, "2021-03-15", "morning", "Paris",
        territory="France", monthly_quota_eur=45000, languages=["fr", "en"]), updated_days_ago=44),
    ParticipantSpec("Lucas Schmidt", "sales", 0.27, 0.8, _person(
        "Lucas Schmidt", "Sales Development Rep", "Sales", 74, "2024-01-08", "afternoon", "Berlin",
        territory="DACH", monthly_quota_eur=25000, languages=["de", "en"])),
    ParticipantSpec("Lucía Fernández", "collections", 0.82, 1.1, _person(
        "Lucía Fernández", "Gestora de cobros senior", "Recobro", 28, "2017-09-04", "mañana", "Sevilla",
        languages=["es"], extension=2041)),
    ParticipantSpec("Javier Morales", "collections", 0.5, 1.0, _person(
        "Javier Morales", "Gestor de cobros", "Recobro", 69, "2023-02-20", "tarde", "Sevilla",
        languages=["es"], extension=2057)),
)

UNKNOWN_AGENT = {"en": "Alex", "es": "Marta"}
UNKNOWN_QUALITY = 0.6


# --- static catalogue: what calls say ------------------------------------------------------

CUSTOMERS = {
    "en": ("James Carter", "Linda Moore", "Robert Hughes", "Megan Price", "Thomas Reed", "Aisha Khan",
           "Kevin Walsh", "Hannah Scott", "George Turner", "Chloe Bennett", "Omar Haddad", "Julia Novak",
           "Peter Lindqvist", "Grace Okafor", "Ethan Brooks", "Sofia Rossi"),
    "es": ("Antonio López", "Carmen Ruiz", "Manuel Jiménez", "Isabel Navarro", "Francisco Romero",
           "Pilar Domínguez", "José Gil", "Rosa Serrano", "David Molina", "Elena Ortega", "Raúl Delgado",
           "Nuria Castro"),
}
SUPERVISORS = {"support": "Rachel Adams", "sales": "Mark Ellis", "collections": "Beatriz Sanz"}
PRODUCTS = ("Nimbus Drive", "Nimbus Mail", "Nimbus Backup", "Admin Console", "Mobile app")
COMPETITORS = ("Dropbox", "Box", "Google Workspace", "SharePoint")
NEXT_ACTIONS = ("Send proposal and book a demo with IT", "Start a 30-day pilot with the design team",
                "Follow-up call with the CFO next week", "Send security documentation (SOC 2 report)")
ISSUES = {
    "BILLING": "a duplicate charge on their invoice",
    "TECHNICAL": "sync errors",
    "ACCOUNT_ACCESS": "being locked out of their account",
    "CANCELLATION": "a request to cancel their subscription",
    "OTHER": "a question about their plan",
}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Monday", "Monday")
MESES = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
         "octubre", "noviembre", "diciembre")



def _by_topic(head: tuple[str, ...], topics: dict[str, tuple[str, ...]], tail: tuple[str, ...]) -> dict:
    """Lines for each topic of a call, in narrative order: shared, topical, then shared again."""
    return {topic: head + lines + tail for topic, lines in topics.items()}


TEMPLATES: dict[str, dict[str, Any]] = {
    "support": {
        "open_good": (
            "Thank you for calling Nimbus support, my name is {agent}. How can I help you today?",
            "Good {daypart}, you're through to Nimbus support, this is {agent} speaking. "
            "What can I do for you?",
            "Hi, thanks for calling Nimbus. {agent} here, how can I help?",
        ),
        "open_poor": ("Support.", "Yeah, hi, what's the problem?", "Nimbus, go ahead."),
        "customer_open": {
            "BILLING": ("Hi, I was charged twice for my subscription this month.",
                        "Hello, my invoice shows {amount} dollars but my plan should be cheaper.",
                        "I'd like to understand a charge from you on my card."),
            "TECHNICAL": ("Hi, {product} keeps failing to sync since yesterday.",
                          "Hello, I get an error every time I open {product}.",
                          "{product} has been really slow all morning and my team can't work."),
            "ACCOUNT_ACCESS": ("I can't log in to my account, it says my password is wrong.",
                               "Hi, my two-factor codes stopped working after I changed phones."),
            "CANCELLATION": ("I'd like to cancel my subscription, please.",
                             "Hi, we're thinking about cancelling {product}."),
            "OTHER": ("Hi, I have a question about where our data is stored.",
                      "Hello, I wanted to ask how to add more users to our plan."),
        },
        # Support calls: shared opening lines, lines on the call's topic, shared wrap-up lines.
        "agent_mid": _by_topic(
            ("I'm sorry to hear that, let me take a look for you.",
             "Could you confirm the email address on the account?",
             "Thanks. For security, can you tell me the last four digits of the card on file?",
             "I understand how frustrating this is."),
            {
                "BILLING": ("I can see two charges of {amount} dollars on the same day.",
                            "The second one was a duplicate from our payment provider.",
                            "I'm issuing a refund for the duplicate charge right now.",
                            "The refund takes three to five working days to show on your card."),
                "TECHNICAL": ("Let me check the logs for {product}.",
                              "Is there anything in the error message, like a code?",
                              "Could you try signing out and back in while I stay on the line?",
                              "I can see the issue on our side now; a sync job got stuck.",
                              "I've restarted the sync for your account."),
                "ACCOUNT_ACCESS": ("I can see several failed sign-ins, so the account was locked for safety.",
                                   "I'm sending a reset link to your email now.",
                                   "Once you're in, register your new phone under Security settings."),
                "CANCELLATION": ("May I ask what's behind the decision to cancel?",
                                 "Before you go, I can offer you two months at half price.",
                                 "I've scheduled the cancellation for the end of your billing period."),
                "OTHER": ("All customer data is stored in our EU data centres.",
                          "You can add users from the Admin Console, under Users and billing.",
                          "I'll send you a link to the documentation."),
            },
            ("I've opened ticket {ticket} so you can follow this up.",
             "I'll send you a confirmation email with the details."),
        ),
        "customer_mid": _by_topic(
            ("Sure, it's {customer_email}.", "The last four are {card}.", "Okay, one second.",
             "Yes, that's right."),
            {
                "BILLING": ("It was on the fifth, I think.", "So I'll get the money back?",
                            "Okay, good to know."),
                "TECHNICAL": ("It says something about a timeout.", "Alright, I've done that.",
                              "Hmm, still the same.", "It's been like this since Monday."),
                "ACCOUNT_ACCESS": ("I did try to log in a few times, yes.", "Okay, I've got the email.",
                                   "Great, I'm in now."),
                "CANCELLATION": ("We're moving everything to another provider.",
                                 "Honestly, the price went up too much.", "Hmm, let me think about that offer."),
                "OTHER": ("Good, our legal team asked about that.", "Okay, and is there a cost per user?"),
            },
            ("Do I need to do anything else on my side?", "I really need this sorted today.",
             "Got it, thanks."),
        ),
        "close_good": (
            "Is there anything else I can help you with today? Thanks for calling Nimbus, "
            "have a great {daypart}!",
            "You're all set. Thanks for your patience, {customer_first}, and have a lovely day.",
        ),
        "close_poor": ("Okay, someone will get back to you. Bye.", "That's all I can do for now."),
        "customer_close_good": ("That's everything, thank you so much!", "Perfect, thanks for your help."),
        "customer_close_poor": ("So it's still not fixed? Fine.", "This is not really helpful, but okay. Bye."),
        "rude": (
            "Look, I've explained this three times already, it's not that hard.",
            "Honestly, that's a silly question.",
            "That's not my problem, you should have read the instructions.",
        ),
        "supervisor": ("Hi, this is {supervisor}, the shift supervisor. I've been listening in and "
                       "I can authorise that for you.",),
        "summary_good": (
            "The customer reported {issue}. {agent} investigated, resolved it during the call and sent "
            "a confirmation email.",
            "Support call about {issue} involving {product}. The agent verified the account, fixed the "
            "problem and explained how to avoid it in the future.",
        ),
        "summary_poor": (
            "The customer reported {issue}. It was not resolved during the call; {agent} opened ticket "
            "{ticket} for follow-up.",
            "Support call about {issue}. The customer remained frustrated and no clear next step was agreed.",
        ),
    },
    "sales": {
        "open_good": (
            "Hi {customer_first}, this is {agent} from Nimbus. Thanks for taking the time today, "
            "is now still a good moment?",
            "Good {daypart} {customer_first}, {agent} from Nimbus here, we had this call booked "
            "to talk about your team's file sharing.",
        ),
        "open_poor": ("Hi, {agent} from Nimbus. So, do you want to buy our product?",
                      "Yeah hi, calling about Nimbus, you filled in a form."),
        "customer_open": (
            "Yes, go ahead, I have about twenty minutes.",
            "Sure, we're evaluating a few tools for our {team_size}-person team.",
            "Hi, yes, I downloaded your whitepaper last week.",
        ),
        "agent_mid": (
            "What does your current setup for file sharing look like?",
            "How many people would be using it day to day?",
            "What made you start looking for a new solution now?",
            "With Nimbus you get unlimited version history and SSO on every plan.",
            "Teams your size usually save about ten hours a week on admin.",
            "Our business plan is {price} euros per user per month, billed annually.",
            "I understand the budget concern; we can start with a pilot for one team.",
            "Who else would be involved in the decision?",
            "I can set up a technical demo with our solutions engineer.",
            "How does that compare with what you pay today?",
        ),
        "customer_mid": (
            "We mostly use shared drives and email attachments.",
            "About {team_size} people, maybe more next year.",
            "Our contract with {competitor} ends in March.",
            "Honestly the price seems high compared with {competitor}.",
            "Security is the main thing for our IT team.",
            "That sounds interesting.",
            "Our CFO would need to sign off.",
            "Can you send me something in writing?",
            "We had a bad experience with migrations before.",
            "Okay, how long does onboarding take?",
        ),
        "close_good": (
            "Great, I'll send the proposal today and book the demo for {next_day}. Thanks, {customer_first}!",
            "Perfect, I'll put the pilot kick-off in the calendar for {next_day}. Talk soon!",
        ),
        "close_poor": ("Okay, I'll, uh, send you an email at some point.",
                       "Alright, let me know if you're interested."),
        "customer_close_good": ("Sounds good, talk then.", "Perfect, looking forward to it."),
        "customer_close_poor": ("Sure. Bye.", "We'll think about it."),
        "rude": ("I can promise you a 50 percent discount forever, no problem.",
                 "Everyone else has already switched, you're a bit behind, honestly."),
        "supervisor": ("Hi, {supervisor} here, I lead the sales team. I can approve a discount on the "
                       "first year if that helps.",),
        "summary_good": (
            "Discovery call with {customer} ({team_size} users), currently on {competitor}. Main interest: "
            "security and version history. Next step: {next_action}.",
            "{agent} qualified {customer}'s team of {team_size}; budget and timeline confirmed. "
            "Next step: {next_action}.",
        ),
        "summary_poor": (
            "Discovery call with {customer}; pricing concerns versus {competitor} were not addressed and "
            "no next step was agreed.",
            "Short call with {customer}; the prospect showed little interest and the call ended without "
            "a follow-up.",
        ),
    },
    "collections": {
        "open_good": (
            "Buenos días, le habla {agent} de Financiera Aurora. ¿Hablo con {customer}?",
            "Buenas tardes, soy {agent}, de Financiera Aurora. ¿Podría hablar con {customer}, por favor?",
        ),
        "open_poor": ("¿{customer}? Le llamo por la deuda.", "Sí, hola, es por un pago pendiente."),
        "customer_open": ("Sí, soy yo. ¿De qué se trata?", "Sí, dígame.",
                          "Soy yo, pero ahora estoy un poco ocupado."),
        "agent_mid": (
            "Antes de continuar, ¿me confirma los últimos dígitos de su DNI?",
            "Le informo de que esta llamada se graba y de que su fin es el cobro de una deuda.",
            "Tiene un saldo pendiente de {amount} euros desde {month}.",
            "Entiendo su situación, vamos a buscar una solución.",
            "Podemos ofrecerle un plan de pagos en {installments} cuotas.",
            "¿Qué cantidad podría asumir cada mes?",
            "Le enviaré el acuerdo por correo electrónico.",
            "Si realiza el primer pago antes del {promise_date}, no se aplicarán recargos.",
        ),
        "customer_mid": (
            "Sí, termina en {dni}.",
            "Ahora mismo no puedo pagarlo todo de golpe.",
            "Me quedé sin trabajo hace unos meses.",
            "Podría pagar unos {monthly} euros al mes.",
            "No sabía que la deuda seguía abierta.",
            "Vale, eso sí lo puedo asumir.",
            "¿Y qué pasa si me retraso un mes?",
            "De acuerdo.",
        ),
        "close_good": ("Perfecto, queda registrado el acuerdo. Muchas gracias por su tiempo, "
                       "que tenga un buen día.",),
        "close_poor": ("Bueno, pues ya le volveremos a llamar.",
                       "Si no paga, tendremos que tomar otras medidas."),
        "customer_close_good": ("Gracias a usted, hasta luego.", "Muy bien, gracias."),
        "customer_close_poor": ("Vale. Adiós.", "No me parece justo, pero bueno."),
        "rude": ("Si no paga esta semana, se va a enterar todo su barrio.",
                 "No me cuente historias, usted lo que tiene que hacer es pagar."),
        "supervisor": ("Buenas, soy {supervisor}, la supervisora. Puedo autorizar una quita del diez "
                       "por ciento si se firma hoy.",),
        "summary_good": ("El deudor aceptó un plan de pagos de {installments} cuotas.",),
        "summary_poor": ("No se alcanzó ningún acuerdo de pago con el deudor.",),
    },
}

ERRORS = (
    ("UNSUPPORTED_FORMAT", "The file format is not supported; use mp3, wav, m4a, mp4 or ogg."),
    ("NO_SPEECH_DETECTED", "No speech was detected in the audio."),
    ("FILE_CORRUPTED", "The file could not be decoded; it may be corrupted or truncated."),
    ("PROCESSING_TIMEOUT", "Processing did not finish within the time limit; please retry."),
    ("QUOTA_EXCEEDED", "The monthly transcription quota of the account is used up."),
)
ERROR_WEIGHTS = (2, 3, 2, 3, 1)
FILE_EXTENSIONS = ("mp3", "mp3", "mp3", "wav", "m4a", "mp4")
NAME_PREFIX = {"support": "support", "sales": "sales", "collections": "cobros"}


# --- helpers --------------------------------------------------------------------------------


def _clamp(value: float, low: float, high: float) -> float:
    return low if value < low else high if value > high else value


def _ts(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def _as_utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        return now.replace(tzinfo=UTC)
    return now.astimezone(UTC)


def _daypart(moment: datetime) -> str:
    return "morning" if moment.hour < 12 else "afternoon" if moment.hour < 18 else "evening"


@dataclass
class _Call:
    """What is decided about one call before its payload is written."""

    at: datetime
    config: ConfigSpec
    participant: int | None  # index into PARTICIPANTS
    status: str = "COMPLETED"
    rank: int = 0  # among the participant's calls, newest = 0


# --- the generator ----------------------------------------------------------------------------


class _Generator:
    def __init__(self, rng: Rng, now: datetime):
        self.rng = rng
        self.now = now
        self.start = now - timedelta(days=SPAN_DAYS)
        self.month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)

    # ids and dates

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def office_time(self, day: date) -> datetime:
        seconds = self.rng.randrange(7 * 3600, 19 * 3600)
        return (datetime.combine(day, time(), tzinfo=UTC)
                + timedelta(seconds=seconds, microseconds=self.rng.randrange(1_000_000)))

    def days_ago(self, days: float) -> datetime:
        """An office-hours moment `days` days before now (never after now)."""
        moment = self.office_time((self.now - timedelta(days=days)).date())
        return min(moment, self.now - timedelta(seconds=self.rng.randrange(60, 3600)))

    # the four resources

    def run(self, count: int) -> dict:
        self.client_id = self.uid()
        configurations = [self.configuration(spec) for spec in CONFIGURATIONS]
        evaluators = [self.evaluator(spec) for spec in EVALUATORS]
        participants = [self.participant(spec) for spec in PARTICIPANTS]
        self.config_ids = {
            spec.key: c["configuration_id"] for spec, c in zip(CONFIGURATIONS, configurations, strict=True)
        }
        self.evaluators = evaluators
        self.evaluator_since = [datetime.fromisoformat(e["created_at"]) for e in evaluators]
        self.participants = participants
        self.participant_since = [datetime.fromisoformat(p["created_at"]) for p in participants]
        calls = self.plan_calls(count)
        transcriptions = [self.transcription(call) for call in calls]
        return {
            "configurations": configurations,
            "evaluators": evaluators,
            "participants": participants,
            "transcriptions": transcriptions,
        }

    def configuration(self, spec: ConfigSpec) -> dict:
        return {
            "configuration_id": self.uid(),
            "client_id": self.client_id,
            "tag": spec.tag,
            "vocabulary": list(spec.vocabulary),
            "extraction_fields": [
                {"name": f.name, "type": f.type, "description": f.description} for f in spec.fields
            ],
            "summary": spec.summary,
            "summary_language": spec.summary_language,
            "analytics_language": spec.analytics_language,
            "webhooks": dict(spec.webhooks),
            "created_at": _ts(self.days_ago(SPAN_DAYS + spec.days_before_start)),
        }

    def evaluator(self, spec: EvaluatorSpec) -> dict:
        evaluator_id = self.uid()
        criteria = [
            {"id": self.uid(), "name": name, "description": description, "type": kind, "weight": weight}
            for name, kind, weight, description, _ease, _role in spec.criteria
        ]
        created = self.days_ago(spec.created_days_ago)
        updated = created if spec.updated_days_ago >= spec.created_days_ago else max(
            created, self.days_ago(spec.updated_days_ago)
        )
        return {
            "evaluator_id": evaluator_id,
            "client_id": self.client_id,
            "tag": spec.tag,
            "description": spec.description,
            "language": spec.language,
            "context": copy.deepcopy(spec.context),
            "criteria": criteria,
            "created_at": _ts(created),
            "updated_at": _ts(updated),
        }

    def participant(self, spec: ParticipantSpec) -> dict:
        participant_id = self.uid()
        if spec.hired_days_ago is not None:
            created = self.days_ago(spec.hired_days_ago)  # a new hire, created on the first day
            metadata = {**copy.deepcopy(spec.metadata), "hire_date": created.date().isoformat()}
        else:
            created = self.days_ago(SPAN_DAYS + 3)
            metadata = copy.deepcopy(spec.metadata)  # callers may edit the output
        updated = created if spec.updated_days_ago is None else max(
            created, self.days_ago(spec.updated_days_ago)
        )
        return {
            "participant_id": participant_id,
            "client_id": self.client_id,
            "tag": spec.tag,
            "metadata": metadata,
            "created_at": _ts(created),
            "updated_at": _ts(updated),
        }

    # planning the calls: when, who, which status

    def call_time(self) -> datetime:
        """A weekday-heavy, office-hours moment in the span; volume grows slowly over time."""
        rng, latest = self.rng, self.now - SETTLED
        while True:
            days = rng.randrange(SPAN_DAYS + 1)
            day = (self.now - timedelta(days=days)).date()
            if day.weekday() >= 5 and rng.random() < 0.8:
                continue
            if rng.random() > 1 - 0.35 * days / SPAN_DAYS:
                continue
            moment = self.office_time(day)
            if self.start <= moment <= latest:
                return moment

    def open_time(self, newest: bool) -> datetime:
        """A PENDING / IN_PROGRESS call: recent. The newest is always in the current month."""
        window = OPEN_WINDOW
        if newest:
            window = min(window, self.now - self.month_start)
        return self.now - timedelta(seconds=self.rng.random() * window.total_seconds())

    def pick_participant(self, at: datetime) -> int | None:
        rng = self.rng
        if rng.random() < NO_PARTICIPANT_SHARE:
            return None
        weights = [spec.volume for spec in PARTICIPANTS]
        while True:
            index = rng.choices(range(len(PARTICIPANTS)), weights)[0]
            if self.participant_since[index] <= at:
                return index

    def pick_config(self, participant: int | None) -> ConfigSpec:
        if participant is not None:
            domain = PARTICIPANTS[participant].domain
            return next(spec for spec in CONFIGURATIONS if spec.key == domain)
        return self.rng.choices(CONFIGURATIONS, (0.5, 0.33, 0.17))[0]

    def plan_calls(self, count: int) -> list[_Call]:
        rng = self.rng
        n_open = min(count, max(2, round(count * OPEN_SHARE)))
        n_failed = min(count - n_open, max(1, round(count * FAILED_SHARE)))
        times = [self.open_time(newest=i == 0) for i in range(n_open)]
        times += [self.call_time() for _ in range(count - n_open)]
        calls = []
        for at in times:
            participant = self.pick_participant(at)
            calls.append(_Call(at=at, config=self.pick_config(participant), participant=participant))
        # The open calls: the newest of them queued (PENDING), the older ones IN_PROGRESS.
        open_calls = sorted(calls[:n_open], key=lambda c: c.at, reverse=True)
        for rank, call in enumerate(open_calls):
            call.status = "PENDING" if rank < max(1, n_open // 2) else "IN_PROGRESS"
        for index in rng.sample(range(n_open, count), n_failed):
            calls[index].status = "FAILED"
        calls.sort(key=lambda c: c.at, reverse=True)  # newest first, as Heify lists them
        seen: dict[int | None, int] = {}
        for call in calls:
            call.rank = seen.get(call.participant, 0)
            seen[call.participant] = call.rank + 1
        return calls

    # one transcription

    def quality(self, call: _Call) -> float:
        if call.participant is None:
            base = UNKNOWN_QUALITY
        else:
            spec = PARTICIPANTS[call.participant]
            base = spec.quality
            if spec.degrading_to is not None and call.rank < DEGRADED_CALLS + DEGRADING_CALLS:
                # a clear drop: she is still well above her low when the slide starts
                slide = max(0, call.rank - DEGRADED_CALLS) / DEGRADING_CALLS
                low = spec.degrading_to
                base = low if call.rank < DEGRADED_CALLS else low + 0.25 + (spec.quality - low - 0.25) * slide
        return _clamp(base + self.rng.gauss(0, 0.05), 0.02, 0.99)

    def pick_evaluator(self, call: _Call) -> int | None:
        roll, seen = self.rng.random(), 0.0
        candidates = [i for i, spec in enumerate(EVALUATORS) if spec.domain == call.config.key]
        for index in candidates:
            seen += EVALUATORS[index].share
            if roll < seen:
                if self.evaluator_since[index] <= call.at:
                    return index
                return candidates[0]  # a newer evaluator did not exist yet: the domain's default
        return None  # a call scored by no evaluator

    def verdicts(self, spec: EvaluatorSpec, quality: float) -> tuple[dict, dict]:
        """A verdict per criterion (bool, or 1-5 for scale), and the verdicts by role."""
        rng = self.rng
        verdicts, roles = {}, {}
        for name, kind, _weight, _description, ease, role in spec.criteria:
            if kind == "SCALE":
                mean = 1 + 4 * _clamp(quality + ease, 0, 1)
                value = int(_clamp(round(mean + rng.gauss(0, 0.6)), 1, 5))
            elif kind == "BOOLEAN":
                value = rng.random() < _clamp(1.3 * quality - 0.2 + ease, 0.02, 0.99)
            else:  # STRICT: a critical failure is rare, and rarer for good agents
                value = rng.random() >= _clamp(0.003 + 0.09 * (1 - quality) ** 2 - ease, 0.001, 0.5)
            verdicts[name] = value
            if role:
                roles[role] = value if kind != "SCALE" else value >= rules.SCALE_PASS_MARK
        return verdicts, roles

    def duration(self, config: ConfigSpec, quality: float) -> float:
        seconds = config.duration_median * self.rng.lognormvariate(0, 0.45) * (1.15 - 0.3 * quality)
        return round(_clamp(seconds, 60.0, 1200.0), 1)

    def group(self, call: _Call, evaluation: dict | None) -> str | None:
        rng = self.rng
        age = self.now - call.at
        if call.status != "COMPLETED":
            if call.status == "FAILED" and rng.random() < 0.12:
                return "PENDING_REVIEW"
            return None
        if evaluation and evaluation["critical_fail_triggered"]:
            weights = (0.25, 0.1, 0.55, 0.1) if age > timedelta(days=30) else (0.66, 0.2, 0.06, 0.08)
        elif evaluation and evaluation["score"] < 50:
            weights = (0.22, 0.1, 0.28, 0.4)
        else:
            weights = (0.04, 0.04, 0.34, 0.58) if age > timedelta(days=14) else (0.05, 0.06, 0.08, 0.81)
        return rng.choices(("PENDING_REVIEW", "UNDER_REVIEW", "ARCHIVED", None), weights)[0]

    def context(self, call: _Call, agent: str) -> dict:
        rng, language = self.rng, call.config.language
        customer = rng.choice(CUSTOMERS[language])
        first, last = customer.split(" ", 1)
        promise = (call.at + timedelta(days=rng.randrange(3, 15))).date()
        return {
            "agent": agent,
            "customer": customer,
            "customer_first": first,
            "customer_email": f"{first[0].lower()}.{last.lower()}@{rng.choice(('gmail.com', 'acme.io'))}",
            "daypart": _daypart(call.at),
            "supervisor": SUPERVISORS[call.config.key],
            "product": rng.choice(PRODUCTS),
            "ticket": f"TCK-{rng.randrange(100000, 1000000)}",
            "card": f"{rng.randrange(10000):04d}",
            "amount": rng.randrange(20, 400) if language == "en" else round(rng.uniform(180, 4200), 2),
            "category": rng.choices(tuple(ISSUES), (3, 4, 2, 1, 1))[0],
            "team_size": rng.choice((8, 12, 25, 40, 60, 120, 250)),
            "competitor": rng.choice(COMPETITORS),
            "price": rng.choice((9, 12, 15)),
            "next_day": WEEKDAYS[(call.at.weekday() + 2) % 7],
            "next_action": rng.choice(NEXT_ACTIONS),
            "month": MESES[(call.at.month - 1 - rng.randrange(1, 6)) % 12],
            "installments": rng.choice((3, 6, 10, 12)),
            "promise_date": f"{promise.day} de {MESES[promise.month - 1]}",
            "promise_iso": promise.isoformat(),
            "dni": f"{rng.randrange(1000):03d}",
            "monthly": rng.choice((50, 75, 100, 150, 200)),
        }

    @staticmethod
    def topical(pool: tuple[str, ...] | dict[str, tuple[str, ...]], ctx: dict) -> tuple[str, ...]:
        return pool[ctx["category"]] if isinstance(pool, dict) else pool

    def some_lines(self, pool: tuple[str, ...], count: int) -> list[str]:
        """`count` different lines of a pool, kept in the pool's (narrative) order."""
        return [pool[i] for i in sorted(self.rng.sample(range(len(pool)), min(count, len(pool))))]

    def conversation(self, call: _Call, ctx: dict, turns: int, roles: dict) -> list[dict]:
        rng, lines = self.rng, TEMPLATES[call.config.key]
        good, rude = ctx["good"], roles.get("conduct") is False
        supervisor = rng.random() < 0.05
        customer_open = self.topical(lines["customer_open"], ctx)
        segments = [
            ("SPEAKER_00", rng.choice(lines["open_good"] if roles.get("greeting", good) else lines["open_poor"])),
            ("SPEAKER_01", rng.choice(customer_open)),
        ]
        middle = max(2, turns - 4 - (1 if supervisor else 0)) // 2 * 2  # even: the customer answers last
        agent_lines = self.some_lines(self.topical(lines["agent_mid"], ctx), middle // 2)
        customer_lines = self.some_lines(self.topical(lines["customer_mid"], ctx), middle // 2)
        if rude:
            agent_lines[rng.randrange(len(agent_lines))] = rng.choice(lines["rude"])
        for turn in range(middle):
            pool = agent_lines if turn % 2 == 0 else customer_lines
            segments.append(("SPEAKER_00" if turn % 2 == 0 else "SPEAKER_01", pool[(turn // 2) % len(pool)]))
        if supervisor:
            segments.append(("SPEAKER_02", rng.choice(lines["supervisor"])))
        segments.append(("SPEAKER_00", rng.choice(lines["close_good"] if good else lines["close_poor"])))
        segments.append(
            ("SPEAKER_01", rng.choice(lines["customer_close_good"] if good else lines["customer_close_poor"]))
        )
        return [{"text": text.format(**ctx), "speaker": speaker} for speaker, text in segments]

    def field_values(self, call: _Call, ctx: dict) -> list[dict]:
        rng, good = self.rng, ctx["good"]
        if rng.random() < 0.7:
            sentiment = "POSITIVE" if good else "NEGATIVE"
        else:
            sentiment = "NEUTRAL"
        makers: dict[str, Callable[[], Any]] = {
            "sentiment": lambda: sentiment,
            "issue_category": lambda: ctx["category"],
            "ticket_id": lambda: ctx["ticket"] if not good or rng.random() < 0.4 else None,
            "issue_resolved": lambda: good,
            "products_mentioned": lambda: sorted({ctx["product"], *rng.sample(PRODUCTS, rng.randrange(0, 3))}),
            "deal_value": lambda: ctx["team_size"] * ctx["price"] * 12 if good or rng.random() < 0.3 else None,
            "next_action": lambda: ctx["next_action"] if good else "No follow-up agreed",
            "competitor_mentioned": lambda: rng.random() < 0.55,
            "payment_plan": lambda: good,
            "agreed_amount": lambda: float(ctx["monthly"] * ctx["installments"]) if good else None,
            "promise_date": lambda: ctx["promise_iso"] if good else None,
        }
        return [{"name": spec.name, "value": makers[spec.name]()} for spec in call.config.fields]

    def details(
        self, call: _Call, agent: str, *, quality: float, duration: float, roles: dict, evaluation: dict | None,
        times: Callable[[], tuple[datetime, datetime]], summary: bool,
        fields: Callable[[dict, list[dict]], list[dict]] | None,
    ) -> dict:
        """The `details` of a completed call: conversation, summary, extracted fields, evaluation.

        Shared with the emulator, which completes uploaded calls the same way. `times` gives (started,
        completed) and `fields` the extracted values (from the context and the segments), both at their place
        in the sequence of random draws, so that a seed gives the same account.
        """
        rng = self.rng
        ctx = self.context(call, agent)
        ctx["good"] = roles.get("resolution", rng.random() < 0.2 + 0.75 * quality)
        ctx["issue"] = ISSUES[ctx["category"]]
        turns = int(_clamp(round(6 + duration / 90 + rng.gauss(0, 2)), 6, 20))
        started, completed = times()
        segments = self.conversation(call, ctx, turns, roles)
        details: dict[str, Any] = {
            "language": call.config.language,
            "num_speakers": len({s["speaker"] for s in segments}),
            "created_at": _ts(started),
            "completed_at": _ts(completed),
            "conversation": {"segments": segments},
        }
        if summary:
            template = rng.choice(TEMPLATES[call.config.key]["summary_good" if ctx["good"] else "summary_poor"])
            details["summary"] = {"summary": template.format(**ctx)}
        if fields is not None:
            details["fields"] = {"fields": fields(ctx, segments)}
        if evaluation is not None:
            details["evaluation"] = evaluation
        return details

    def transcription(self, call: _Call) -> dict:
        rng, config = self.rng, call.config
        quality = self.quality(call)
        evaluator_index = self.pick_evaluator(call)
        duration = self.duration(config, quality)
        agent = (PARTICIPANTS[call.participant].tag.split(" ")[0] if call.participant is not None
                 else UNKNOWN_AGENT[config.language])
        extension = rng.choice(FILE_EXTENSIONS)
        name = None if rng.random() < 0.06 else (
            f"{NAME_PREFIX[config.key]}_{call.at:%Y%m%d_%H%M%S}_{agent.lower()}.{extension}"
        )
        payload = {
            "transcription_id": self.uid(),
            "client_id": self.client_id,
            "status": call.status,
            "configuration_id": self.config_ids[config.key],
            "configuration_tag": config.tag,
            "evaluator_id": None if evaluator_index is None else self.evaluators[evaluator_index]["evaluator_id"],
            "participant_id": None if call.participant is None
            else self.participants[call.participant]["participant_id"],
            "name": name,
            "group": None,
            "duration": duration,
            "created_at": _ts(call.at),
        }
        evaluation = None
        if call.status == "COMPLETED":
            roles: dict = {}
            if evaluator_index is not None:
                verdicts, roles = self.verdicts(EVALUATORS[evaluator_index], quality)
                evaluation = rules.evaluation_score(self.evaluators[evaluator_index]["criteria"], verdicts)

            def times() -> tuple[datetime, datetime]:
                started = call.at + timedelta(seconds=rng.uniform(2, 90))
                return started, started + timedelta(seconds=duration * rng.uniform(0.12, 0.3) + rng.uniform(8, 60))

            payload["details"] = self.details(
                call, agent, quality=quality, duration=duration, roles=roles, evaluation=evaluation, times=times,
                summary=config.summary,
                fields=(lambda ctx, segments: self.field_values(call, ctx)) if config.fields else None,
            )
        elif call.status == "FAILED":
            code, message = rng.choices(ERRORS, ERROR_WEIGHTS)[0]
            payload["error"] = {"code": code, "message": message}
        payload["group"] = self.group(call, evaluation)
        return payload


def generate(*, seed: int = 7, transcriptions: int = 3000, now: datetime | None = None) -> dict:
    """A whole demo account in the `heify_load` format; same seed and `now`, same output.

    `now` (default: the current UTC time; a naive datetime is taken as UTC) is
    the moment the data is generated at: every date lies in the ~4 months
    before it. Raises ValueError for a negative number of transcriptions.
    """
    if isinstance(transcriptions, bool) or not isinstance(transcriptions, int) or transcriptions < 0:
        raise ValueError(f"transcriptions must be a whole number >= 0, not {transcriptions!r}")
    return _Generator(random.Random(seed), _as_utc(now)).run(transcriptions)
