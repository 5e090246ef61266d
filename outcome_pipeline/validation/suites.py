"""Great Expectations suites built from :mod:`.rules`: the suite of record.

One expectation per rule; the rule's name travels in the expectation's ``meta["rule"]`` so a
result maps back to its rule (GX reorders results by column). GX is imported inside the
functions: importing it costs ~3-4 s and must not slow down loading the Dagster code location.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from outcome_pipeline.validation import rules as R

if TYPE_CHECKING:  # pragma: no cover - typing only
    from great_expectations import ExpectationSuite
    from great_expectations.expectations import Expectation

# GX expectation type (snake case) of each rule kind, for reporting without importing GX.
EXPECTATION_TYPES: dict[str, str] = {
    R.NOT_NULL: "expect_column_values_to_not_be_null",
    R.IN_SET: "expect_column_values_to_be_in_set",
    R.BETWEEN: "expect_column_values_to_be_between",
    R.ORDER: "expect_column_pair_values_a_to_be_greater_than_b",
    R.REGEX: "expect_column_values_to_match_regex",
    R.UNIQUE: "expect_column_values_to_be_unique",
    R.COLUMNS: "expect_table_columns_to_match_set",
    R.TYPE: "expect_column_values_to_be_of_type",
    R.ORDER_STRICT: "expect_column_pair_values_a_to_be_greater_than_b",
    R.UNIQUE_WITHIN: "expect_compound_columns_to_be_unique",
}


def expectation_type(rule: R.Rule) -> str:
    return EXPECTATION_TYPES[rule.kind]


def expectation_for(rule: R.Rule, *, values_placeholder: bool = False) -> Expectation:
    """The GX expectation that checks ``rule``.

    ``values_placeholder`` replaces a known-ids value set by an empty one: used for Data
    Docs, where thousands of (pseudo-)identifiers must not be rendered.
    """
    import great_expectations.expectations as gxe

    common: dict[str, Any] = {
        "meta": {"rule": rule.name, "level": rule.level, "code": rule.code},
        "severity": "critical" if rule.severity == "error" else "warning",
        "notes": rule.description or None,
    }
    if rule.mostly is not None:
        common["mostly"] = rule.mostly
    if rule.when:
        # Condition objects, not the string row_condition deprecated since GX 1.9.
        from great_expectations.expectations.row_conditions import Column

        column, value = rule.when
        common["row_condition"] = Column(column) == value
    kind = rule.kind
    if kind == R.NOT_NULL:
        return gxe.ExpectColumnValuesToNotBeNull(column=rule.column, **common)
    if kind == R.IN_SET:
        values = list(rule.values)
        if values_placeholder and rule.code == R.UNKNOWN_REFERENCE:
            values = []
            common["notes"] = f"{rule.description} ({len(rule.values)} known ids, not shown)"
        return gxe.ExpectColumnValuesToBeInSet(column=rule.column, value_set=values, **common)
    if kind == R.BETWEEN:
        return gxe.ExpectColumnValuesToBeBetween(
            column=rule.column,
            min_value=rule.min_value,
            max_value=rule.max_value,
            strict_max=rule.strict_max,
            **common,
        )
    if kind == R.ORDER:
        return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=rule.column,
            column_B=rule.other,
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            **common,
        )
    if kind == R.ORDER_STRICT:
        return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=rule.column,
            column_B=rule.other,
            or_equal=False,
            ignore_row_if="either_value_is_missing",
            **common,
        )
    if kind == R.UNIQUE_WITHIN:
        return gxe.ExpectCompoundColumnsToBeUnique(
            column_list=list(rule.values), ignore_row_if="any_value_is_missing", **common
        )
    if kind == R.REGEX:
        return gxe.ExpectColumnValuesToMatchRegex(column=rule.column, regex=rule.regex, **common)
    if kind == R.UNIQUE:
        return gxe.ExpectColumnValuesToBeUnique(column=rule.column, **common)
    if kind == R.COLUMNS:
        return gxe.ExpectTableColumnsToMatchSet(
            column_set=list(rule.values), exact_match=True, **common
        )
    if kind == R.TYPE:
        return gxe.ExpectColumnValuesToBeOfType(column=rule.column, type_=rule.type_name, **common)
    raise ValueError(f"{rule.name}: no expectation for kind {kind!r}")


def build_suite(
    name: str, rules: Sequence[R.Rule], *, values_placeholder: bool = False
) -> ExpectationSuite:
    """An (unsaved) ExpectationSuite with one expectation per rule.

    Built through the constructor: ``add_expectation`` compares each new expectation with
    every one already added (pydantic dumps, quadratic: 0.16 s for the 50 interaction rules,
    ~0.35 s per day over the five tables, measured with GX 1.24); rule names are unique, so
    there is nothing for that check to find.
    """
    import great_expectations as gx

    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise ValueError(f"suite {name}: duplicate rule names")
    return gx.ExpectationSuite(
        name=name,
        expectations=[expectation_for(r, values_placeholder=values_placeholder) for r in rules],
    )
