"""An administrator adds a webhook endpoint (a real receiver on loopback), copies the secret
shown once, sees the deliveries and their attempts, replays one, sends a test event, rotates
the secret and deletes the endpoint."""

import json

import pytest

from tests.browser.test_api_keys_and_rules import sign_in
from tests.factories import make_award
from tests.webhooks.conftest import receiver  # noqa: F401 - the fixture
from webhooks import delivery
from webhooks.models import Endpoint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_add_watch_replay_rotate_and_delete_an_endpoint(
    page,
    screenshot,
    admin_a,
    space_a,
    receiver,  # noqa: F811
):
    sign_in(page, admin_a)
    menu = page.get_by_role("complementary", name="Main menu")
    menu.get_by_role("link", name="Webhooks").click()
    page.get_by_role("heading", name="Webhooks", exact=True).wait_for()
    assert page.get_by_text("No endpoints yet").is_visible()
    screenshot("1-empty")

    # A refused address is explained beside the field.
    page.get_by_label("URL").fill("https://10.0.0.1/hook")
    page.get_by_role("checkbox", name="award.issued").check()
    page.get_by_role("button", name="Add endpoint").click()
    page.get_by_text("not a public address").wait_for()
    screenshot("2-refused")

    page.get_by_label("URL").fill(receiver.url)
    page.get_by_role("checkbox", name="award.revoked").check()
    page.get_by_role("button", name="Add endpoint").click()
    page.get_by_role("heading", name="Endpoint added").wait_for()
    secret = page.locator("#webhook-secret").inner_text()
    assert secret.startswith("whsec_")
    screenshot("3-secret-once")
    receiver.secrets = [secret]

    receiver.fail_first = 1
    make_award(space_a)
    delivery.drain()
    page.get_by_role("link", name="I have copied it").click()
    page.get_by_role("heading", name="Delivery log").wait_for()
    assert secret not in page.content()
    assert page.get_by_text("Retrying").is_visible()
    screenshot("4-log-retrying")

    page.get_by_role("button", name="Replay").click()
    page.get_by_text("is being sent again").wait_for()
    delivery.drain()
    page.get_by_role("button", name="Send test event").click()
    page.get_by_text("webhook.test event is on its way").wait_for()
    delivery.drain()
    page.reload()
    assert page.get_by_text("Delivered").count() == 2
    screenshot("5-log-delivered")
    assert len(receiver.processed) == 2 and all(r["valid"] for r in receiver.requests)
    assert json.loads(receiver.requests[-1]["body"])["type"] == "webhook.test"

    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Rotate secret").click()
    page.get_by_role("heading", name="A new signing secret").wait_for()
    new_secret = page.locator("#webhook-secret").inner_text()
    assert new_secret != secret
    screenshot("6-rotated")
    page.get_by_role("link", name="I have copied it").click()
    page.get_by_text("Previous secret accepted until").wait_for()

    page.get_by_role("button", name="Delete endpoint").click()
    page.get_by_text("nothing more is sent to it").wait_for()
    assert not Endpoint.objects.exists()
    screenshot("7-deleted")
