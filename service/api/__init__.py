"""The API for the center's systems (an EHR, a scheduling system): `/api/v1/`, JSON in and out, a bearer
token on every call (made with `flask api-token create`, revoked by admins), every call audited; bad
input is a 422 naming the field, never a 500. Served by the console process."""
from service.api.broadcasts import bp as broadcasts_bp
from service.api.contacts import bp as contacts_bp

BLUEPRINTS = (contacts_bp, broadcasts_bp)
