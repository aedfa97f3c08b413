"""The Twilio edge: the signed webhook, delivery status callbacks and the fallback URL."""
from service.sms.fallback import bp as fallback_bp
from service.sms.webhook import bp as webhook_bp

BLUEPRINTS = (webhook_bp, fallback_bp)
