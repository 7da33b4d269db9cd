"""Schemathesis hooks that let a generated run get past kofu's card step.

A copier opens a session (`POST /v1/sessions`, which answers a single-use
challenge), then presents a card: the card's certificate and its signature
over the challenge bytes. Generated data cannot sign, so these hooks do what
a copier's card reader does, with a demo card's private key:

- after `POST /v1/sessions`, the session's challenge is remembered;
- before `POST /v1/sessions/{id}/card` with schema-valid data, the body is
  replaced by a demo card's certificate and its signature over that
  session's challenge (RSA PKCS#1 v1.5 or ECDSA P-256, both SHA-256), so the
  stateful phase goes on to orders, documents and confirmations;
- before `POST /v1/sessions/{id}/orders` with schema-valid data, the
  `Idempotency-Key` is a fresh one, so two generated orders never collide;
- before `GET /v1/orders/{id}/document`, a schema-valid `Kofu-Session` is
  the session that placed the order, when this run placed it;
- a schema-valid `municipality_code` (a registered domicile's, in an order
  or a registration) names the demo municipality, ひなた市
  (`$KOFU_MUNICIPALITY`, default 139998): a random code names no
  participating municipality, and the 404 that answers it would read as
  "the session just created is not found";
- a schema-valid renewal whose new serial is its old one (the same number,
  which no schema can compare) gets another new serial;
- a schema-valid verification code gets its right check character (Luhn
  mod 32, which no pattern can say), so it is looked up instead of refused.

Cases generated to be invalid (negative mode) are sent as generated.
The demo's certificates are read from `$KOFU_CERTS` (default `certs/demo`).
"""

import base64
import itertools
import os
import re
import threading
import uuid

import schemathesis
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import load_pem_x509_certificate

CERTS = os.environ.get("KOFU_CERTS", "certs/demo")
# The demo cards linked to residents of ひなた市 (see certs/demo/README.md).
CARDS = ("card-rsa-1", "card-ecdsa-1", "card-rsa-2")
MUNICIPALITY = os.environ.get("KOFU_MUNICIPALITY", "139998")

_lock = threading.Lock()
_challenges = {}  # session id -> challenge bytes
_order_sessions = {}  # order id -> session id
_next_card = itertools.cycle(CARDS)
_loaded = {}


def _card(label):
    """The card's certificate (DER) and private key."""
    if label not in _loaded:
        with open(os.path.join(CERTS, f"{label}.pem"), "rb") as f:
            certificate = load_pem_x509_certificate(f.read())
        with open(os.path.join(CERTS, f"{label}.key"), "rb") as f:
            key = serialization.load_pem_private_key(f.read(), password=None)
        _loaded[label] = (certificate.public_bytes(serialization.Encoding.DER), key)
    return _loaded[label]


def signed_submission(challenge, label):
    """The body a copier sends for `label`'s card over `challenge`."""
    der, key = _card(label)
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(challenge, padding.PKCS1v15(), hashes.SHA256())
        algorithm = "rsa-pkcs1-sha256"
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(challenge, ec.ECDSA(hashes.SHA256()))
        algorithm = "ecdsa-p256-sha256"
    else:
        raise TypeError(f"{label}: a key kind kofu's cards do not have")
    return {
        "certificate": base64.b64encode(der).decode(),
        "signature": base64.b64encode(signature).decode(),
        "algorithm": algorithm,
    }


def _positive(case):
    """Whether the case is schema-valid data (not generated to be refused)."""
    meta = case.meta
    return meta is None or not meta.generation.mode.is_negative


def _unpad(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


MUNICIPALITY_BODIES = {
    ("POST", "/v1/sessions/{id}/orders"),
    ("POST", "/v1/sessions/{id}/domicile-registrations"),
}


def _name_the_demo_municipality(case):
    """A well-formed code (also in a case made invalid elsewhere) becomes the demo's."""
    code = case.body.get("municipality_code") if isinstance(case.body, dict) else None
    if isinstance(code, str) and re.fullmatch(r"[0-9]{6}", code):
        case.body["municipality_code"] = MUNICIPALITY


def _canonical_serial(text):
    return text.lower().lstrip("0") if isinstance(text, str) else text


def _renew_to_another_serial(body):
    events = body.get("events") if isinstance(body, dict) and "events" in body else [body]
    for event in events if isinstance(events, list) else []:
        if (
            isinstance(event, dict)
            and event.get("kind") == "renewed"
            and isinstance(event.get("new_serial"), str)
            and _canonical_serial(event["new_serial"]) == _canonical_serial(event.get("serial"))
        ):
            last = "2" if event["new_serial"].endswith("1") else "1"
            event["new_serial"] = event["new_serial"][:-1] + last


ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# The operations that read a verification code, and where.
CODE_PATHS = {
    ("GET", "/v1/verify/{id}"),
    ("GET", "/verify/{id}"),
    ("POST", "/v1/admin/documents/{id}/withdraw"),
}
CODE_QUERIES = {("GET", "/verify")}


def with_check_character(code):
    """`XXXX-XXXX-XXXX-C` with C replaced by the check character of the twelve
    before it (src/gateway/signing/code.rs); anything else unchanged."""
    data = [ALPHABET.find(c) for c in code.replace("-", "")[:12]]
    if len(code) != 16 or -1 in data or len(data) != 12:
        return code
    total = 0
    for i, v in enumerate(reversed(data)):
        if i % 2 == 0:
            d = v * 2
            total += d // 32 + d % 32
        else:
            total += v
    return code[:15] + ALPHABET[(32 - total % 32) % 32]


@schemathesis.hook
def after_call(context, case, response):
    if response.status_code != 201:
        return
    operation = (case.method.upper(), case.operation.path)
    try:
        body = response.json()
    except ValueError:
        return
    with _lock:
        if operation == ("POST", "/v1/sessions"):
            _challenges[body["session_id"]] = _unpad(body["challenge"])
        elif operation == ("POST", "/v1/sessions/{id}/orders"):
            _order_sessions[body["order_id"]] = str((case.path_parameters or {}).get("id"))


@schemathesis.hook
def before_call(context, case, kwargs):
    operation = (case.method.upper(), case.operation.path)
    if operation in MUNICIPALITY_BODIES:
        _name_the_demo_municipality(case)
    if not _positive(case):
        return
    path = case.path_parameters or {}
    if operation in CODE_PATHS and isinstance(path.get("id"), str):
        case.path_parameters["id"] = with_check_character(path["id"])
    elif operation in CODE_QUERIES and isinstance((case.query or {}).get("code"), str):
        case.query["code"] = with_check_character(case.query["code"])
    elif operation == ("POST", "/v1/admin/certificate-events"):
        _renew_to_another_serial(case.body)
    elif operation == ("POST", "/v1/sessions/{id}/card"):
        with _lock:
            challenge = _challenges.get(str(path.get("id")))
            label = next(_next_card)
        if challenge is not None:
            case.body = signed_submission(challenge, label)
    elif operation == ("POST", "/v1/sessions/{id}/orders"):
        if case.headers is not None and "Idempotency-Key" in case.headers:
            case.headers["Idempotency-Key"] = f"st-{uuid.uuid4()}"
    elif operation == ("GET", "/v1/orders/{id}/document"):
        with _lock:
            session = _order_sessions.get(str(path.get("id")))
        if session is not None and case.headers is not None and "Kofu-Session" in case.headers:
            case.headers["Kofu-Session"] = session
