"""Validation rules of the extract contract.

Each rule is declared once and yields two things from that one declaration:
a Polars expression that flags violating rows (used for the row-level
quarantine over every row) and a Great Expectations expectation (used for the
suite, its Data Docs and the Dagster asset checks). Rules that need more than
the row (references, the hierarchy) are evaluated in Polars into a check
column that the expectation tests. See docs/validation.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:  # Great Expectations is imported lazily: it costs seconds.
    from great_expectations.expectations import Expectation

#: Rule groups, one Dagster asset check each (plus the structural `schema`
#: and `reconciliation` checks that are not row rules).
RULE_GROUPS = (
    "types",
    "completeness",
    "uniqueness",
    "allowed_values",
    "ranges",
    "dates",
    "references",
)


@dataclass(frozen=True)
class RuleContext:
    """What a rule needs beyond the rows themselves.

    `keys` maps a reference name such as ``"erp_customers"`` to the frame of
    accepted key values of that extract (for cross-extract rules).
    """

    as_of: date
    reporting_currency: str
    keys: Mapping[str, pl.DataFrame] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    """A row rule: `name` is stable (it is what users see in quarantine)."""

    name: str
    column: str

    group: str = "ranges"

    def violation(self, ctx: RuleContext) -> pl.Expr:
        """Boolean expression, true on rows that break the rule (never null)."""
        raise NotImplementedError

    def expectation(self, ctx: RuleContext) -> Expectation:
        """The same rule as a Great Expectations expectation."""
        raise NotImplementedError

    def describe(self) -> str:
        """What the contract expects, in the user's words."""
        raise NotImplementedError

    def as_of_columns(self) -> tuple[str, ...]:
        """Columns compared with the as-of date: the outcome changes with the
        as-of date only where a value lies between two as-of dates, which is
        what lets an unchanged extract keep its validation (validation_store)."""
        return ()


def _gxe() -> Any:
    import great_expectations.expectations as gxe

    return gxe


@dataclass(frozen=True)
class NotNull(Rule):
    group: str = "completeness"

    def violation(self, ctx: RuleContext) -> pl.Expr:
        return pl.col(self.column).is_null()

    def expectation(self, ctx: RuleContext) -> Expectation:
        return _gxe().ExpectColumnValuesToNotBeNull(column=self.column)

    def describe(self) -> str:
        return f"{self.column} must not be empty"


@dataclass(frozen=True)
class OneOf(Rule):
    values: tuple[str, ...] = ()
    group: str = "allowed_values"

    def violation(self, ctx: RuleContext) -> pl.Expr:
        col = pl.col(self.column)
        return (col.is_not_null() & ~col.is_in(list(self.values))).fill_null(False)

    def expectation(self, ctx: RuleContext) -> Expectation:
        return _gxe().ExpectColumnValuesToBeInSet(column=self.column, value_set=list(self.values))

    def describe(self) -> str:
        shown = ", ".join(self.values[:8]) + (", ..." if len(self.values) > 8 else "")
        return f"{self.column} must be one of {shown}"


@dataclass(frozen=True)
class Between(Rule):
    """Inclusive range unless `strict_min`/`strict_max`; optionally only where
    `when_column == when_value` (for example the sign of amounts by document type)."""

    min_value: float | None = None
    max_value: float | None = None
    strict_min: bool = False
    strict_max: bool = False
    when_column: str | None = None
    when_value: str | None = None

    def violation(self, ctx: RuleContext) -> pl.Expr:
        col = pl.col(self.column)
        bad = pl.lit(False)
        if self.min_value is not None:
            bad = bad | (col <= self.min_value if self.strict_min else col < self.min_value)
        if self.max_value is not None:
            bad = bad | (col >= self.max_value if self.strict_max else col > self.max_value)
        if self.when_column is not None:
            bad = bad & (pl.col(self.when_column) == self.when_value)
        return bad.fill_null(False)

    def expectation(self, ctx: RuleContext) -> Expectation:
        kwargs: dict[str, Any] = {}
        if self.when_column is not None:
            kwargs = {
                "row_condition": f'{self.when_column}=="{self.when_value}"',
                "condition_parser": "pandas",
            }
        return _gxe().ExpectColumnValuesToBeBetween(
            column=self.column,
            min_value=self.min_value,
            max_value=self.max_value,
            strict_min=self.strict_min,
            strict_max=self.strict_max,
            **kwargs,
        )

    def describe(self) -> str:
        parts = []
        if self.min_value is not None:
            parts.append(f"{'>' if self.strict_min else '>='} {self.min_value:g}")
        if self.max_value is not None:
            parts.append(f"{'<' if self.strict_max else '<='} {self.max_value:g}")
        text = f"{self.column} must be {' and '.join(parts)}"
        if self.when_column is not None:
            text += f" when {self.when_column} is {self.when_value}"
        return text


@dataclass(frozen=True)
class Matches(Rule):
    """The value must match a regular expression (format rules such as `YYYY-MM`)."""

    pattern: str = ""
    expects: str | None = None  # wording for people, instead of the pattern
    group: str = "allowed_values"

    def violation(self, ctx: RuleContext) -> pl.Expr:
        col = pl.col(self.column)
        return (col.is_not_null() & ~col.str.contains(self.pattern)).fill_null(False)

    def expectation(self, ctx: RuleContext) -> Expectation:
        return _gxe().ExpectColumnValuesToMatchRegex(column=self.column, regex=self.pattern)

    def describe(self) -> str:
        return self.expects or f"{self.column} must match {self.pattern}"


@dataclass(frozen=True)
class RequiredWhen(Rule):
    """The value must be present on rows where `when_column` is one of `when_values`
    (for example an end date for overrides that must expire)."""

    when_column: str = ""
    when_values: tuple[str, ...] = ()
    group: str = "completeness"

    def violation(self, ctx: RuleContext) -> pl.Expr:
        applies = pl.col(self.when_column).is_in(list(self.when_values)).fill_null(False)
        return applies & pl.col(self.column).is_null()

    def expectation(self, ctx: RuleContext) -> Expectation:
        return _gxe().ExpectColumnValuesToNotBeNull(
            column=self.column,
            row_condition=f"{self.when_column} in {list(self.when_values)!r}",
            condition_parser="pandas",
        )

    def describe(self) -> str:
        return f"{self.column} must not be empty when {self.when_column} is {' or '.join(self.when_values)}"


@dataclass(frozen=True)
class NotBefore(Rule):
    """A date must not be before another date of the same row (when both are present)."""

    other: str = ""
    group: str = "dates"

    def violation(self, ctx: RuleContext) -> pl.Expr:
        return (pl.col(self.column) < pl.col(self.other)).fill_null(False)

    def expectation(self, ctx: RuleContext) -> Expectation:
        return _gxe().ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=self.column, column_B=self.other, or_equal=True, ignore_row_if="either_value_is_missing"
        )

    def describe(self) -> str:
        return f"{self.column} must not be before {self.other}"


@dataclass(frozen=True)
class NotAfterAsOf(Rule):
    """Date sanity: nothing is dated after the run's as-of date."""

    group: str = "dates"

    def violation(self, ctx: RuleContext) -> pl.Expr:
        return (pl.col(self.column) > ctx.as_of).fill_null(False)

    def expectation(self, ctx: RuleContext) -> Expectation:
        # A datetime, as ingest.expectations._ge_frame passes dates: pandas compares
        # datetime64 columns with datetimes, not with dates.
        as_of = datetime.combine(ctx.as_of, time())
        return _gxe().ExpectColumnValuesToBeBetween(column=self.column, max_value=as_of)

    def describe(self) -> str:
        return f"{self.column} must not be after the as-of date"

    def as_of_columns(self) -> tuple[str, ...]:
        return (self.column,)


@dataclass(frozen=True)
class UniqueKey(Rule):
    """The key columns identify one row. Policy: the first occurrence (in file
    order) is accepted and every later copy is quarantined, because a repeated
    key is almost always a double export; the rejection names the first row."""

    columns: tuple[str, ...] = ()
    group: str = "uniqueness"

    def violation(self, ctx: RuleContext) -> pl.Expr:
        return pl.struct(list(self.columns)).is_first_distinct().not_()

    def expectation(self, ctx: RuleContext) -> Expectation:
        if len(self.columns) == 1:
            return _gxe().ExpectColumnValuesToBeUnique(column=self.columns[0])
        return _gxe().ExpectCompoundColumnsToBeUnique(column_list=list(self.columns))

    def describe(self) -> str:
        return f"({', '.join(self.columns)}) must be unique"


@dataclass(frozen=True)
class References(Rule):
    """Cross-extract rule: the value (or a key derived from several columns)
    must exist among the accepted keys of another extract.

    `target` names the key frame in `RuleContext.keys`; its single column
    holds the valid keys. `key` derives the compared value from the row
    (defaults to the column itself); `exempt` marks rows the rule does not
    apply to (for example amounts already in the reporting currency).
    """

    target: str = ""
    key: Callable[[RuleContext], pl.Expr] | None = None
    expects: str | None = None  # wording for a derived key, instead of "must exist among ..."
    group: str = "references"

    def key_expr(self, ctx: RuleContext) -> pl.Expr:
        return pl.col(self.column) if self.key is None else self.key(ctx)

    def violation(self, ctx: RuleContext) -> pl.Expr:
        keys = ctx.keys[self.target].to_series(0)
        key = self.key_expr(ctx)
        return (key.is_not_null() & ~key.is_in(keys.implode())).fill_null(False)

    def keys_for(self, ctx: RuleContext, frame: pl.DataFrame) -> RuleContext:
        """`ctx` with the target's keys narrowed to those `frame` holds, when
        the frame is the smaller: `is_in` hashes its whole key list, so a
        sample of 500 rows checked against a million accepted accounts paid
        0.25 s for the million. A semi join against the frame's distinct keys
        costs what the frame costs, and the outcome is the same."""
        keys = ctx.keys[self.target]
        if frame.height >= keys.height:
            return ctx
        name = keys.columns[0]
        wanted = frame.select(self.key_expr(ctx).alias(name)).unique()
        if wanted.schema != keys.schema:
            return ctx
        return replace(ctx, keys={**ctx.keys, self.target: keys.join(wanted, on=name, how="semi")})

    @property
    def check_column(self) -> str:
        """Column GE checks: the rule's outcome, see `unknown_key`."""
        return f"_unknown_{self.name.replace('.', '_')}"

    def unknown_key(self, ctx: RuleContext) -> pl.Expr:
        """The compared key on rows that break the rule, null elsewhere. Great
        Expectations checks this column instead of the key set, so that its
        cost does not grow with the accepted keys (embedding them in the
        expectation made GE copy them many times per metric) while its sample
        still shows the offending keys."""
        return pl.when(self.violation(ctx)).then(self.key_expr(ctx)).alias(self.check_column)

    def expectation(self, ctx: RuleContext) -> Expectation:
        return _gxe().ExpectColumnValuesToBeNull(column=self.check_column)

    def describe(self) -> str:
        return self.expects or f"{self.column} must exist among the accepted {self.target}"


@dataclass(frozen=True)
class AcyclicHierarchy(Rule):
    """Every account's chain of parents ends at a top account: no cycle and no
    ancestor that is itself rejected. Evaluated on the `_hierarchy_problem`
    column that `kam_pipeline.ingest.hierarchy.resolve_groups` derives."""

    group: str = "references"

    def violation(self, ctx: RuleContext) -> pl.Expr:
        return pl.col("_hierarchy_problem").is_not_null()

    @property
    def check_column(self) -> str:
        return "_hierarchy_problem"

    def expectation(self, ctx: RuleContext) -> Expectation:
        return _gxe().ExpectColumnValuesToBeNull(column="_hierarchy_problem")

    def describe(self) -> str:
        return "the parent chain must reach a top account without a cycle"
