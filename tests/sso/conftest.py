import pytest

from tests.sso.saml_idp import SamlIdp, provider_for_space


@pytest.fixture(autouse=True)
def _loopback_providers(settings):
    settings.SSO_ALLOW_PRIVATE_URLS = True


@pytest.fixture
def saml_idp(tmp_path):
    (tmp_path / "a").mkdir()
    return SamlIdp(tmp_path / "a")


@pytest.fixture
def saml_provider(space_a, saml_idp, client):
    """Space A's SAML provider, configured through the service from the IdP's real metadata."""
    return provider_for_space(space_a, saml_idp, client)
