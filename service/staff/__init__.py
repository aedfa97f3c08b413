"""The staff console: server-rendered pages for staff, admins and ops."""
from service.staff.auth import bp as auth_bp
from service.staff.broadcasts_page import bp as broadcasts_bp
from service.staff.callbacks import bp as callbacks_bp
from service.staff.contacts_pages import bp as contacts_bp
from service.staff.crises import bp as crises_bp
from service.staff.flows import bp as flows_bp
from service.staff.inbox import bp as inbox_bp
from service.staff.insights_page import bp as insights_bp
from service.staff.journeys_page import bp as journeys_bp
from service.staff.people import bp as people_bp
from service.staff.settings_page import bp as settings_bp
from service.staff.setup_page import bp as setup_bp
from service.staff.simulator import bp as simulator_bp
from service.staff.staff_accounts import bp as staff_accounts_bp
from service.staff.unmatched import bp as unmatched_bp

BLUEPRINTS = (auth_bp, broadcasts_bp, callbacks_bp, contacts_bp, crises_bp, flows_bp, inbox_bp, insights_bp, journeys_bp, people_bp, settings_bp,
              setup_bp, simulator_bp, staff_accounts_bp, unmatched_bp)
