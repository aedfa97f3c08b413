"""`/api/v1/contacts/{number}`: set (PUT), read (GET) and erase (DELETE) what the center knows of a
contact. PUT takes {"language", "fields", "groups", "consent"}, every key optional: fields merge (null
clears one), groups replace the set; 201 when created, 200 when updated (or unchanged). A number that
sent STOP stays opted out whatever the body says."""
from flask import Blueprint, jsonify

from flows.engine import Consent
from service import channels, contacts as contact_rules
from service.api.base import Problem, audit, json_body, register_errors, token_required
from service.erase import erase_address, erase_person
from service.rekeying import current_key
from service.runtime import services
from service.store import contacts
from service.store.contacts import Contact

bp = Blueprint("api_contacts", __name__, url_prefix="/api/v1")
register_errors(bp)


def _number(raw: str) -> str:
    return contact_rules.number(raw, services().config.default_region)


def view(contact: Contact) -> dict:
    """The contact as the API answers it."""
    return {"number": contact.number, "channel": channels.of(contact.number).name, "language": contact.language or services().flows().program.default_language,
            "fields": dict(sorted(contact.fields.items())), "groups": list(contact.groups),
            "consent": contact.evidence, "opted_out": contact.consent is Consent.OPTED_OUT}


@bp.put("/contacts/<path:number>")
@token_required
def put(number):
    svc = services()
    e164 = _number(number)
    flows = svc.flows()
    change = contact_rules.change_from(json_body(), flows.program.fields, flows.program.languages)
    outcome, contact = contact_rules.apply(svc, e164, change, svc.now())
    audit("api_put_contact", f"{contact.pk} {outcome.value}")
    return jsonify(view(contact)), 201 if outcome is contact_rules.Outcome.CREATED else 200


@bp.get("/contacts/<path:number>")
@token_required
def get(number):
    svc = services()
    pk = current_key(svc, _number(number))
    contact = contacts.read(svc.redis, svc.vault, pk)
    audit("api_get_contact", pk)
    if contact is None:
        raise Problem(404, "number: no contact with this number")
    return jsonify(view(contact))


@bp.delete("/contacts/<path:number>")
@token_required
def delete(number):
    svc = services()
    address = _number(number)
    pk = current_key(svc, address)
    if contacts.read(svc.redis, svc.vault, pk) is None:
        audit("api_delete_contact", f"{pk} absent")
        raise Problem(404, "number: no contact with this number")
    erase_person(svc, pk)
    erase_address(svc, address)  # anything of theirs still under an older key (a rotation's conflict)
    audit("api_delete_contact", pk)
    return "", 204
