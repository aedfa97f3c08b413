"""rq CLI settings (`rq worker -c workers.rq_settings`): the same Redis the app uses, Sentinel included."""
from service.config import rq_settings

globals().update(rq_settings())
