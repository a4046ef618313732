"""What the demo's calls say: customers, supervisors, products, the conversation and summary templates of
each domain, and the error messages, file extensions and name prefixes of the calls' payloads.

Static text only; `generator.py` picks from it.
"""

from __future__ import annotations

from typing import Any

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
