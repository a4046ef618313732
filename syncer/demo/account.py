"""The demo account's fixed catalogue: its configurations, evaluators and participants (agents), as specs.

The generator (`generator.py`) turns each spec into Heify's JSON with ids and dates drawn from the seed;
nothing here is random. `SPAN_DAYS`, how far back the account's calls go, lives here because the
evaluators' dates are counted from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SPAN_DAYS = 120  # how far back the calls go


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
