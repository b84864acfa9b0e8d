"""The checks every browser test runs (tests/browser/conftest.py) are not blind: an axe
violation, a console error and a page error on a page of ours are each caught."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_page_watch_catches_axe_console_and_page_errors(page, request):
    watch = request.node.page_watch
    page.goto("/accounts/login/")
    page.wait_for_load_state("load")
    # What the page itself looks like passes (the load already ran axe on it).
    assert watch.finish() == []

    page.evaluate(
        """() => {
          const link = document.createElement('a');
          link.href = '#';
          document.body.appendChild(link);  // a link with no name
          console.error('something broke');
          setTimeout(() => { throw new Error('uncaught'); });
        }"""
    )
    page.wait_for_timeout(200)
    problems = watch.finish()
    watch.problems.clear()  # seen: this test passes because they were caught
    page.reload()
    assert any("axe serious link-name" in p for p in problems), problems
    assert any("console error" in p and "something broke" in p for p in problems), problems
    assert any("page error" in p and "uncaught" in p for p in problems), problems
