"""Published figures the dashboard shows beside the team's own, each with its source.

The lines are ``appeals.models.ReferenceLine`` rows, which admins edit or hide; the tuple below is
what a new install is seeded with (``appeals.defaults``, set ``reference-lines``), matched on
``key``. ``reference_lines()`` is the one function the dashboard calls.

Each line stands beside one dashboard figure (``figure``, the row's ``measures``):
``bundling_first_level_success`` (success rate of first-level appeals of bundling denials),
``denial_rate_dollars`` (denied over billed charges), ``denial_rate_claims`` (denied claims over
claims).
"""

from __future__ import annotations

from dataclasses import dataclass

BUNDLING_FIRST_LEVEL_SUCCESS = "bundling_first_level_success"
DENIAL_RATE_DOLLARS = "denial_rate_dollars"
DENIAL_RATE_CLAIMS = "denial_rate_claims"


@dataclass(frozen=True)
class ReferenceLine:
    key: str
    figure: str
    label: str
    low: float
    high: float
    source: str
    position: int = 100

    @property
    def words(self) -> str:
        """The range as a billing team reads it: "50-70%" or "about 9%"."""
        if self.low == self.high:
            return f"about {self.low * 100:g}%"
        return f"{self.low * 100:g}-{self.high * 100:g}%"


SHIPPED_REFERENCE_LINES: tuple[ReferenceLine, ...] = (
    ReferenceLine(
        key="bundling-first-level-success",
        figure=BUNDLING_FIRST_LEVEL_SUCCESS,
        label="First-level appeal success on bundling (CARC 97) denials when documentation supports the modifier",
        low=0.50,
        high=0.70,
        # The project's research notes on CARC 97 (work/shared/seeds/001_929cf441728081b6.txt):
        # "First-level appeal success rate when documentation genuinely supports the modifier is
        # typically 50-70%."
        source="Overturn's research notes on CARC 97 denials (industry guidance on modifier-supported appeals)",
        position=10,
    ),
    ReferenceLine(
        key="initial-denial-rate-charges",
        figure=DENIAL_RATE_DOLLARS,
        label="Initial denial rate, share of charges",
        low=0.09,
        high=0.09,
        source="Change Healthcare, Denials Index, 2016",
        position=20,
    ),
    ReferenceLine(
        key="initial-denial-rate-private-claims",
        figure=DENIAL_RATE_CLAIMS,
        label="Initial denial rate, share of private-payer claims",
        low=0.15,
        high=0.15,
        source="Premier Inc., survey of providers, 2022",
        position=30,
    ),
)


def reference_lines() -> list[ReferenceLine]:
    """The lines an admin left shown, in their order (one query)."""
    from appeals.models import ReferenceLine as Row

    return [
        ReferenceLine(
            key=row.key,
            figure=row.measures,
            label=row.label,
            low=float(row.low),
            high=float(row.high if row.high is not None else row.low),
            source=row.source,
            position=row.position,
        )
        for row in Row.objects.filter(shown=True).order_by("position", "key")
    ]


def for_figure(figure: str, lines: list[ReferenceLine] | None = None) -> list[ReferenceLine]:
    return [line for line in (reference_lines() if lines is None else lines) if line.figure == figure]
