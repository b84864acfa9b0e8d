"""A real SAML 2.0 identity provider (pysaml2) for the tests: it reads our SP metadata, parses
the AuthnRequest our sign-in button sends, and answers with a signed assertion (xmlsec1)."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from saml2 import BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_PERSISTENT
from saml2.server import Server

from tests.factories import self_signed_cert

ENTITY_ID = "https://idp.test.example/saml/metadata"
SSO_URL = "https://idp.test.example/saml/sso"

MAIL = "urn:oid:0.9.2342.19200300.100.1.3"
GIVEN_NAME = "urn:oid:2.5.4.42"
SURNAME = "urn:oid:2.5.4.4"
EMPLOYEE_NUMBER = "urn:oid:2.16.840.1.113730.3.1.3"


class SamlIdp:
    def __init__(self, workdir: Path):
        cert, key = self_signed_cert()
        self.cert_file = workdir / "idp.crt"
        self.key_file = workdir / "idp.key"
        self.cert_file.write_text(
            "-----BEGIN CERTIFICATE-----\n" + cert + "\n-----END CERTIFICATE-----\n"
        )
        self.key_file.write_text(key)
        self.workdir = workdir
        self.sp_metadata: str | None = None
        self._server: Server | None = None

    def _config(self) -> dict:
        config = {
            "entityid": ENTITY_ID,
            "xmlsec_binary": shutil.which("xmlsec1"),
            "key_file": str(self.key_file),
            "cert_file": str(self.cert_file),
            "service": {
                "idp": {
                    "endpoints": {"single_sign_on_service": [(SSO_URL, BINDING_HTTP_REDIRECT)]},
                    "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                    "policy": {
                        "default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None}
                    },
                    "sign_assertion": True,
                    "sign_response": False,
                }
            },
        }
        if self.sp_metadata:
            path = self.workdir / "sp.xml"
            path.write_text(self.sp_metadata)
            config["metadata"] = {"local": [str(path)]}
        return config

    def metadata(self) -> str:
        conf = IdPConfig().load(self._config())
        return create_metadata_string(None, config=conf, valid=24).decode()

    def trust_sp(self, sp_metadata: str) -> None:
        self.sp_metadata = sp_metadata
        self._server = Server(config=IdPConfig().load(self._config()))

    def answer(self, redirect_url: str, *, attributes: dict, name_id: str) -> dict:
        """The POST our ACS receives for the AuthnRequest in ``redirect_url``."""
        query = parse_qs(urlsplit(redirect_url).query)
        request = self._server.parse_authn_request(
            query["SAMLRequest"][0], BINDING_HTTP_REDIRECT
        ).message
        from saml2.saml import NameID

        response = self._server.create_authn_response(
            identity=attributes,
            in_response_to=request.id,
            destination=request.assertion_consumer_service_url,
            sp_entity_id=request.issuer.text,
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=name_id),
            authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"},
            sign_assertion=True,
            sign_response=False,
            sign_alg="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            digest_alg="http://www.w3.org/2001/04/xmlenc#sha256",
        )
        return {
            "acs": request.assertion_consumer_service_url,
            "SAMLResponse": base64.b64encode(str(response).encode()).decode(),
            "RelayState": query.get("RelayState", [""])[0],
        }


def provider_for_space(space, idp: SamlIdp, client, **fields):
    """A SAML provider of ``space`` configured through the service from ``idp``'s metadata,
    and ``idp`` trusting our SP metadata as we serve it."""
    from badgeplatform.access import Access
    from sso import services
    from sso.models import IdentityProvider
    from users.models import Role

    values = {
        "name": f"{space.name} SAML",
        "attr_external_id": EMPLOYEE_NUMBER,
        "emails_verified_by_idp": True,
        "jit_organisation": space.root_organisation,
        "jit_role": Role.objects.get(space=space, name="User"),
        **fields,
    }
    row = IdentityProvider(
        space=space, kind=IdentityProvider.SAML, metadata_xml=idp.metadata(), **values
    )
    row = services.provider_save(access=Access.system(space), idp=row)
    metadata = client.get(f"/sso/saml/{row.provider_id}/metadata/")
    assert metadata.status_code == 200
    idp.trust_sp(metadata.content.decode())
    return row


def start(client, provider, next_url: str = "/") -> str:
    response = client.post(
        f"/sso/saml/{provider.provider_id}/login/", {"next": next_url, "process": "login"}
    )
    assert response.status_code == 302 and response.url.startswith(SSO_URL), response
    return response.url


def post_to_acs(client, answer: dict):
    acs = client.post(
        answer["acs"].replace("http://testserver", ""),
        {"SAMLResponse": answer["SAMLResponse"], "RelayState": answer["RelayState"]},
    )
    assert acs.status_code == 302
    return client.get(acs.url)


def sign_in(client, provider, idp: SamlIdp, *, attributes: dict, name_id: str, next_url="/"):
    """The whole round trip: the button, the IdP's signed answer, our ACS. The last response."""
    answer = idp.answer(start(client, provider, next_url), attributes=attributes, name_id=name_id)
    return post_to_acs(client, answer)
