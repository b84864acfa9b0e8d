import pytest

from branding.colours import contrast_checks, contrast_ratio
from branding.forms import PlanAdminForm
from branding.plans import (
    FREE,
    PLANS,
    Feature,
    FeatureNotInPlan,
    require_feature,
    space_has,
    space_plan,
)
from orgs.models import Plan
from tests.factories import put_on_plan

pytestmark = pytest.mark.django_db


def test_the_data_migration_seeded_the_plans_defined_in_code():
    seeded = {p.code: p for p in Plan.objects.all()}
    for spec in PLANS:
        assert seeded[spec.code].name == spec.name
        assert set(seeded[spec.code].features) == set(spec.features)
    assert [p.code for p in Plan.objects.all()] == ["free", "standard", "white-label"]


def test_plan_only_features_are_where_the_docs_say():
    assert [sorted(p.features) for p in PLANS] == [
        ["custom_colours"],
        ["custom_colours", "custom_emails", "custom_logo"],
        sorted(Feature),
    ]


def test_a_space_without_a_plan_is_on_the_free_row(space_a, django_assert_num_queries):
    assert space_a.plan_id is None
    with django_assert_num_queries(1):  # the Free row, once; then cached on the instance
        assert space_plan(space_a).code == "free"
        assert space_has(space_a, Feature.CUSTOM_COLOURS)
        assert not space_has(space_a, Feature.CUSTOM_LOGO)


def test_the_operator_can_change_what_free_includes(space_a):
    Plan.objects.filter(code="free").update(features=["custom_colours", "custom_logo"])
    assert space_has(space_a, Feature.CUSTOM_LOGO)


def test_without_a_free_row_the_code_definition_applies(space_a):
    Plan.objects.filter(code="free").delete()
    assert space_plan(space_a).features == FREE.features


def test_an_assigned_plan_decides(space_a):
    put_on_plan(space_a, "white-label")
    assert space_has(space_a, Feature.LANDING_PAGE)
    put_on_plan(space_a, "standard")
    assert not space_has(space_a, Feature.LANDING_PAGE)


def test_refusal_names_the_feature_the_plan_and_what_to_do(space_a):
    with pytest.raises(FeatureNotInPlan) as refused:
        require_feature(space_a, Feature.LANDING_PAGE)
    message = str(refused.value)
    assert "landing page" in message and "White-label plan" in message
    assert "Free plan" in message and "public page of your own" in message  # what it does
    assert "operator" not in message  # not a dead end: the pages offer the Plans page


def test_admin_form_offers_known_features_only_and_stores_them_in_order():
    form = PlanAdminForm(
        {
            "code": "edu",
            "name": "Education",
            "position": 5,
            "features": ["landing_page", "custom_colours"],
        }
    )
    assert form.is_valid(), form.errors
    assert form.save().features == ["custom_colours", "landing_page"]
    bad = PlanAdminForm({"code": "x", "name": "X", "position": 1, "features": ["typo_feature"]})
    assert not bad.is_valid() and "features" in bad.errors


def test_contrast_ratio_matches_wcag():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1)
    # The classic threshold pair: #777777 on white is just below AA, #767676 just above.
    assert contrast_ratio("#777777", "#ffffff") < 4.5 < contrast_ratio("#767676", "#ffffff")


def test_default_colours_pass_and_poor_ones_are_flagged():
    assert all(
        c.passes for c in contrast_checks(nav_bg="#1f2a44", nav_text="#e8ecf5", accent="#2f6fde")
    )
    checks = {
        c.key: c for c in contrast_checks(nav_bg="#ffffff", nav_text="#eeeeee", accent="#ffff00")
    }
    assert not checks["nav"].passes and not checks["accent"].passes
    assert "below the WCAG AA minimum" in checks["nav"].message
