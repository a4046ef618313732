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

Where things live: `generate()`, the entry point the commands call, here;
the account's fixed catalogue (configurations, evaluators, participants) in
`account.py`; what calls say (customers, conversation templates, summaries,
error messages, file names) in `texts.py`; the generator that draws the payloads
and plans the calls in `generator.py`.
"""

from __future__ import annotations

import random
from datetime import datetime

from syncer.demo.generator import _as_utc, _Generator


def generate(*, seed: int = 7, transcriptions: int = 3000, now: datetime | None = None) -> dict:
    """A whole demo account in the `heify_load` format; same seed and `now`, same output.

    `now` (default: the current UTC time; a naive datetime is taken as UTC) is
    the moment the data is generated at: every date lies in the ~4 months
    before it. Raises ValueError for a negative number of transcriptions.
    """
    if isinstance(transcriptions, bool) or not isinstance(transcriptions, int) or transcriptions < 0:
        raise ValueError(f"transcriptions must be a whole number >= 0, not {transcriptions!r}")
    return _Generator(random.Random(seed), _as_utc(now)).run(transcriptions)
