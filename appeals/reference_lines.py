"""Published figures the dashboard shows beside the team's own, each with its source.

Shipped data, pure (no Django). TEMPORARY home: issue 11 wants admins to edit or hide these;
/tmp/merge/analytics.md proposes the ``ReferenceLine`` model (seeded from this tuple by the
shipped defaults), and ``reference_lines()`` below is the one function the dashboard calls, so
only its body changes when the model lands.

Each line compares with one dashboard figure (``figure``): ``appeal-success-bundling-first-level``
(success rate of first-level appeals of bundling denials), ``denial-rate-dollars`` (denied over
billed charges), ``denial-rate-claims`` (denied claims over claims).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReferenceLine:
    key: str
    figure: str
    label: str
    low: float
    high: float
    source: str
    visible: bool = True

    @property
    def words(self) -> str:
        """The range as a billing team reads it: "50-70%" or "about 9%"."""
        if self.low == self.high:
            return f"about {self.low * 100:g}%"
        return f"{self.low * 100:g}-{self.high * 100:g}%"


SHIPPED_REFERENCE_LINES: tuple[ReferenceLine, ...] = (
    ReferenceLine(
        key="bundling-first-level-success",
        figure="appeal-success-bundling-first-level",
        label="First-level appeal success on bundling (CARC 97) denials when documentation supports the modifier",
        low=0.50,
        high=0.70,
        # The project's research notes on CARC 97 (work/shared/seeds/001_929cf441728081b6.txt):
        # "First-level appeal success rate when documentation genuinely supports the modifier is
        # typically 50-70%."
        source="Overturn's research notes on CARC 97 denials (industry guidance on modifier-supported appeals)",
    ),
    ReferenceLine(
        key="initial-denial-rate-charges",
        figure="denial-rate-dollars",
        label="Initial denial rate, share of charges",
        low=0.09,
        high=0.09,
        source="Change Healthcare, Denials Index, 2016",
    ),
    ReferenceLine(
        key="initial-denial-rate-private-claims",
        figure="denial-rate-claims",
        label="Initial denial rate, share of private-payer claims",
        low=0.15,
        high=0.15,
        source="Premier Inc., survey of providers, 2022",
    ),
)


def reference_lines() -> list[ReferenceLine]:
    """The reference lines to show (admin-edited once the model lands; the shipped ones until then)."""
    return [line for line in SHIPPED_REFERENCE_LINES if line.visible]


def for_figure(figure: str) -> list[ReferenceLine]:
    return [line for line in reference_lines() if line.figure == figure]
