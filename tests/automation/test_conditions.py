import pytest

from cadency.automation.conditions import (
    ConditionError,
    as_q,
    matches,
    parse_conditions,
)
from cadency.contacts.models import Company, Contact
from tests.factories import make_company, make_contact, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def people() -> dict[str, Contact]:
    acme = make_company("Acme", "acme.test")
    acme.properties = {"plan": "Enterprise", "region": "emea"}
    acme.save()
    globex = make_company("Globex", "globex.test")
    owner = make_user("ria")
    return {
        "jane": make_contact(
            "jane@acme.test",
            company=acme,
            lifecycle_stage="customer",
            owner=owner,
            properties={"tier": "gold", "score": "42"},
        ),
        "john": make_contact("john@globex.test", company=globex, properties={"tier": "silver"}),
        "lone": make_contact("lone@example.test", first_name="", properties={}),
    }


CASES = [
    ([{"field": "lifecycle_stage", "op": "is", "value": "customer"}], {"jane"}),
    ([{"field": "lifecycle_stage", "op": "is", "value": "CUSTOMER"}], {"jane"}),
    ([{"field": "lifecycle_stage", "op": "is_not", "value": "customer"}], {"john", "lone"}),
    ([{"field": "properties.tier", "op": "is", "value": "gold"}], {"jane"}),
    ([{"field": "properties.tier", "op": "is_not", "value": "gold"}], {"john", "lone"}),
    (
        [{"field": "properties.tier", "op": "is_any_of", "value": ["gold", "silver"]}],
        {"jane", "john"},
    ),
    ([{"field": "properties.tier", "op": "contains", "value": "OL"}], {"jane"}),
    ([{"field": "properties.tier", "op": "is_set"}], {"jane", "john"}),
    ([{"field": "properties.tier", "op": "is_not_set"}], {"lone"}),
    ([{"field": "owner", "op": "is", "value": "ria"}], {"jane"}),
    ([{"field": "owner", "op": "is_not_set"}], {"john", "lone"}),
    ([{"field": "first_name", "op": "is_not_set"}], {"lone"}),
    ([{"field": "email", "op": "contains", "value": "@globex"}], {"john"}),
    ([{"field": "company.name", "op": "is", "value": "acme"}], {"jane"}),
    ([{"field": "company.name", "op": "is_not", "value": "Acme"}], {"john", "lone"}),
    ([{"field": "company.name", "op": "is_not_set"}], {"lone"}),
    ([{"field": "company.domain", "op": "is", "value": "globex.test"}], {"john"}),
    ([{"field": "company.domain", "op": "is_not", "value": "globex.test"}], {"jane", "lone"}),
    ([{"field": "company.domain", "op": "contains", "value": "acme"}], {"jane"}),
    ([{"field": "company.domain", "op": "is_set"}], {"jane", "john"}),
    ([{"field": "company.properties.plan", "op": "is", "value": "enterprise"}], {"jane"}),
    ([{"field": "company.properties.plan", "op": "is_not_set"}], {"john", "lone"}),
    (
        [
            {"field": "company.properties.region", "op": "is", "value": "emea"},
            {"field": "properties.tier", "op": "is", "value": "silver"},
        ],
        set(),
    ),
    ([], {"jane", "john", "lone"}),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_python_and_the_database_agree_on_who_matches(
    people: dict[str, Contact], raw: list[dict[str, object]], expected: set[str]
) -> None:
    conditions = parse_conditions(raw)
    by_python = {name for name, contact in people.items() if matches(contact, conditions)}
    by_query = {
        name
        for name, contact in people.items()
        if Contact.objects.filter(as_q(conditions), pk=contact.pk).exists()
    }
    assert by_python == expected
    assert by_query == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("lifecycle_stage", "conditions are a list"),
        ([{"field": "shoe_size", "op": "is", "value": "9"}], "unknown field 'shoe_size'"),
        ([{"field": "lifecycle_stage", "op": "above", "value": "x"}], "unknown operator 'above'"),
        ([{"field": "lifecycle_stage", "op": "is", "value": ""}], "give a value"),
        ([{"field": "properties.a b", "op": "is", "value": "x"}], "a property name starts"),
        ([{"field": "owner", "op": "is", "value": ["a", "b"]}], "one value only"),
        (["lifecycle_stage"], "a condition is an object"),
    ],
)
def test_a_condition_that_cannot_be_understood_says_why(raw: object, message: str) -> None:
    with pytest.raises(ConditionError, match=message):
        parse_conditions(raw)


def test_a_company_without_domains_has_no_domain() -> None:
    company = Company.objects.create(name="Initech")
    contact = make_contact("pat@initech.test", company=company)
    conditions = parse_conditions([{"field": "company.domain", "op": "is_not_set"}])
    assert matches(contact, conditions)
    assert Contact.objects.filter(as_q(conditions), pk=contact.pk).exists()


@pytest.mark.parametrize("key", ["contains", "isnull", "icontains", "exact", "has_key"])
def test_property_names_that_look_like_lookups_are_plain_names(key: str) -> None:
    named = make_contact("named@example.test", properties={key: "yes"})
    make_contact("other@example.test", properties={"contains": "no"} if key != "contains" else {})
    for op, expected in (("is", {named.pk}), ("is_set", {named.pk}), ("contains", {named.pk})):
        conditions = parse_conditions(
            [{"field": f"properties.{key}", "op": op, "value": "ye" if op == "contains" else "yes"}]
        )
        assert (
            set(Contact.objects.filter(as_q(conditions)).values_list("pk", flat=True)) == expected
        )
        assert matches(named, conditions)
